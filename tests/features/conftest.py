"""Fixtures for feature-extraction tests: small generated images, tiny random transformers, a fake extractor."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from .helpers import CountingExtractor

WORDS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "rock", "indie", "pop", "jazz", "seen", "live", "a", "man",
         "is", "playing", "guitar", "electronic", ",", ".", "##s"]


@pytest.fixture(scope="session")
def images(tmp_path_factory) -> list[str]:
    """Three small images of different sizes and formats (gradient, noise, flat colour)."""
    folder = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(0)
    gradient = np.linspace(0, 255, 64 * 48 * 3).reshape(48, 64, 3).astype(np.uint8)
    noise = rng.integers(0, 256, size=(70, 50, 3), dtype=np.uint8)
    flat = np.full((40, 40, 3), (200, 30, 90), dtype=np.uint8)
    paths = []
    for name, pixels in [("gradient.jpg", gradient), ("noise.png", noise), ("flat.jpg", flat)]:
        Image.fromarray(pixels).save(folder / name)
        paths.append(str(folder / name))
    return paths


def _wordpiece_tokenizer(max_length: int):
    from tokenizers import Tokenizer, normalizers, pre_tokenizers, processors
    from tokenizers.models import WordPiece
    from transformers import PreTrainedTokenizerFast
    tok = Tokenizer(WordPiece({w: i for i, w in enumerate(WORDS)}, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2),
                                                                                                ("[SEP]", 3)])
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
                                   sep_token="[SEP]", mask_token="[MASK]", model_max_length=max_length)


def _seeded(build):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return build()


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory) -> str:
    """A randomly initialised 2-layer, 32-d BERT with a 20-word WordPiece vocabulary."""
    from transformers import BertConfig, BertModel
    folder = tmp_path_factory.mktemp("tiny-bert")
    config = BertConfig(vocab_size=len(WORDS), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=64)
    _seeded(lambda: BertModel(config)).save_pretrained(folder)
    _wordpiece_tokenizer(64).save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="session")
def tiny_clip(tmp_path_factory) -> str:
    """A randomly initialised CLIP (32-d towers, 16-d joint space, 32 px images) with processor files."""
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel
    folder = tmp_path_factory.mktemp("tiny-clip")
    tower = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2)
    config = CLIPConfig(text_config=dict(vocab_size=len(WORDS), max_position_embeddings=32, eos_token_id=3,
                                         bos_token_id=2, pad_token_id=0, **tower),
                        vision_config=dict(image_size=32, patch_size=8, **tower), projection_dim=16)
    _seeded(lambda: CLIPModel(config)).save_pretrained(folder)
    _wordpiece_tokenizer(32).save_pretrained(folder)
    CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}).save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="session")
def tiny_vit(tmp_path_factory) -> str:
    """A randomly initialised 2-layer, 32-d ViT on 32 px images with its image processor."""
    from transformers import ViTConfig, ViTImageProcessor, ViTModel
    folder = tmp_path_factory.mktemp("tiny-vit")
    config = ViTConfig(image_size=32, patch_size=8, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                       intermediate_size=64)
    _seeded(lambda: ViTModel(config)).save_pretrained(folder)
    ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(folder)
    return str(folder)


@pytest.fixture
def counting() -> CountingExtractor:
    return CountingExtractor()
