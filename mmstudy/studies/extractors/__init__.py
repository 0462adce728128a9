"""The pre-trained extractor study (`python -m mmstudy.studies.extractors`).

Which pre-trained extractor (model, layer, preprocessing) should make each modality's item
features, how much does the choice change downstream accuracy and beyond-accuracy, what does each
modality contribute alone, what does extraction cost, and how similar are the extractors' feature
spaces? Everything but the features (split, models, tuning budget, seeds) is held identical.
Default: studies/extractors-quick.yaml, offline on the embedded synthetic dataset (rendered images
and generated texts) with the local zoo presets. The study file's `extractors:` section::

    modalities:                      # modality -> extractors (a name, or {name: ..., <feature spec>})
      image: [precomputed, efficientnet-lite0, {name: lite0-logits, preset: efficientnet-lite0, layer: logits}]
      text: {shipped: precomputed, minilm-l6: minilm-l6, l6-cls: {preset: minilm-l6, pooling: cls}}
      audio: [{name: whisper, precomputed: audio}, {name: vggish, precomputed: vggish}]
    joint: {clip: clip-vit-b32}      # models that serve every modality: one combination each
    reference: {image: efficientnet-lite0, text: minilm-l6, audio: whisper}   # default: the first of each
    design: grid                     # grid (every combination) | vary-one (reference, one modality changed)
    ablations: reference             # none | reference | all: single-modality cells vs their full combination
    cf_baseline: true                # the models' CF counterparts, for the multimodal gain
    graph_k: 20                      # co-interaction graph top-k for the homophily of each feature space
    cka_items: 5000                  # CKA on at most this many items (present everywhere; seeded sample)

Feature specs are those of `mmstudy.features.apply`. After the cells, the study writes
features.json (per modality: every extractor's feature SHA-256 and dimension, the CKA matrix and
the homophily) from the feature store, so the report and `verify` need only the results folder.
"""
from __future__ import annotations

import argparse
from functools import partial

from ...config import as_plain, from_mapping
from ...study.kinds import StudyKind, register_kind
from ..command import run_kind_command
from . import analysis, design, feature_summary, report


def _options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--design", choices=design.DESIGNS, help="override extractors.design")
    parser.add_argument("--ablations", choices=design.ABLATIONS, help="override extractors.ablations")


def _apply_options(section: dict, args: argparse.Namespace) -> dict:
    """The flags applied, then the section normalised (canonical specs, explicit reference), as
    study.json records it for the analysis."""
    section = {**section, **{k: getattr(args, k) for k in ("design", "ablations") if getattr(args, k, None)}}
    return as_plain(from_mapping(design.ExtractorSection, section, f"{args.config}: extractors"))


KIND = register_kind(StudyKind(
    name="extractors", title="Extractor study",
    question="Which pre-trained extractor should make each modality's features, and what does the choice change?",
    default_config="extractors-quick.yaml", section=design.ExtractorSection, cells=design.study_cells,
    analyse=analysis.analyse_extractors, protocol=report.protocol, summary=report.summary, pages=report.pages,
    checks=report.design_checks, data=report.data_lines, options=_options, apply_options=_apply_options,
    finish=feature_summary.write_feature_summary, reference=design.reference_cells))

main = partial(run_kind_command, KIND)  # `python -m mmstudy.studies.extractors [flags]`, from Python
