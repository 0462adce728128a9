"""The standard datasets of multimodal recommendation, as their public releases ship them.

Every published number carries the source it was verified against (read in the stored public
copies of those files). A number that could not be verified is left out (and so not checked);
the comments say which. All seven releases use the MMRec layout: `<name>.inter` (userID, itemID,
[rating], [timestamp], x_label) plus one `.npy` matrix per modality whose row i is itemID i.
"""
from __future__ import annotations

from .standard import FeatureSource, Published, StandardDataset

_MMREC_DRIVE = ("folder {folder!r} of the MMRec data release (https://drive.google.com/drive/folders/"
                "13cBy1EA_saTUuXxVllKgtfci2A09jyaG, linked from https://github.com/enoche/MMRec/tree/master/data)")
_MMREC_PAPER = "Zhou, 'MMRec: Simplifying Multimodal Recommendation', arXiv:2302.03497"
_AMAZON = "Amazon reviews 5-core (He & McAuley, WWW 2016) with MMRec's features and split; " + _MMREC_PAPER
_SPILLO = ("Spillo et al., 'See the Movie, Hear the Song, Read the Book: Extending MovieLens-1M, Last.fm 2K, "
           "and DBbook with Multimodal Data'")
_SPILLO_DOWNLOAD = ("the {folder!r} MMRec-format files of Spillo et al. (https://github.com/giuspillo/"
                    "extending_sota_data_mm_feat or https://zenodo.org/records/15403972)")

# Sources (repository, file, commit) of the numbers below.
MMREC_EVAL = "MMRec evaluation/README.md dataset table (github.com/enoche/MMRec @23aab75)"
FREEREC_MMREC = "freerec's table of the MMRec release (github.com/MTandHJ/freerec freerec/data/datasets/context/mmrec.py @2746b7a)"
FREEREC_MICROLENS = "freerec's MicroLens100K table (github.com/MTandHJ/freerec freerec/data/datasets/microlens.py @4bab304)"
MINILM = "the all-MiniLM-L6-v2 model card: 384-dimensional embeddings (huggingface.co/sentence-transformers/all-MiniLM-L6-v2)"
ML1M_NOTEBOOK = ("the release notebook's printed counts (github.com/giuspillo/extending_sota_data_mm_feat "
                 "3_data_processing/ml-1m_grouplens/process_ml1m.ipynb @9ccdb41)")
DBBOOK_NOTEBOOK = ("the release notebook's printed counts (github.com/giuspillo/extending_sota_data_mm_feat "
                   "2_data_processing/dbbook/process_dbbook_npy_json.ipynb @0ee3d28)")
DBBOOK_FILE = ("the released dbbook.inter, whose training rows end with userID 6178 (ids contiguous from 0) "
               "(github.com/giuspillo/extending_sota_data_mm_feat 3_mmrec/data/dbbook/dbbook.inter @e38d2c8)")


def _lgmrec_log(dataset: str, commit: str) -> str:
    """MMRec's own loader log of the release (it prints the counts and the feature matrix shapes)."""
    return f"MMRec loader log (github.com/georgeguo-cn/LGMRec log/LGMRec-{dataset}-Aug-12-2023-*.log @{commit})"


def _totals(source: str, **counts: int) -> dict[str, Published]:
    return {name: Published(value, source) for name, value in counts.items()}


def _counts(source_totals: str, source_split: str, users: int, items: int, interactions: int,
            train: int, valid: int, test: int) -> dict[str, Published]:
    """Published totals and fixed-split sizes (x_label 0/1/2)."""
    return {**_totals(source_totals, users=users, items=items, interactions=interactions),
            **_totals(source_split, train=train, valid=valid, test=test)}


def _amazon(name: str, folder: str, title: str, stats: dict[str, Published], dims_source: str | None,
            aliases: tuple[str, ...], notes: str = "") -> StandardDataset:
    """An Amazon category as MMRec ships it: `<folder>.inter`, image_feat.npy (4096-d CNN
    features), text_feat.npy (384-d sentence-transformers features)."""
    dims = (Published(4096, dims_source), Published(384, dims_source)) if dims_source else (None, None)
    return StandardDataset(
        name=name, title=title, layout="mmrec", interactions=(f"{folder}.inter",),
        features={"image": FeatureSource("image_feat.npy", "image", dims[0]),
                  "text": FeatureSource("text_feat.npy", "text", dims[1])},
        default_modalities=("image", "text"), download=_MMREC_DRIVE.format(folder=folder), citation=_AMAZON,
        statistics=stats, notes=notes, aliases=aliases)


def _spillo_features(names: dict[str, tuple[str, str]]) -> dict[str, FeatureSource]:
    """Spillo et al. name each feature file after its encoder; only the MiniLM dimension is verified."""
    return {m: FeatureSource(f"{encoder}.npy", kind, Published(384, MINILM) if encoder == "all-MiniLM-L6-v2" else None)
            for m, (encoder, kind) in names.items()}


_SPILLO_TEXT_IMAGE = {"text": ("all-MiniLM-L6-v2", "text"), "text_mpnet": ("all-mpnet-base-v2", "text"),
                      "image": ("vit_cls", "image"), "image_vit_avg": ("vit_avg", "image"),
                      "image_resnet152": ("resnet152", "image"), "image_vgg": ("vgg", "image")}
_BINARY_RATING = ("The rating column is 0/1 (1 = liked): choose the positives explicitly, min_rating='all' "
                  "(every row, as the published counts and MMRec use them) or min_rating=1 (the liked ones); "
                  "the statistics check always sees every row.")

STANDARD_DATASETS: tuple[StandardDataset, ...] = (
    _amazon("amazon-baby", "baby", "Amazon Baby, MMRec release",
            _counts(MMREC_EVAL, FREEREC_MMREC, 19_445, 7_050, 160_792, 118_551, 20_559, 21_682),
            _lgmrec_log("baby", "ce9ac13"), aliases=("amazon_baby", "mmrec-baby")),
    _amazon("amazon-sports", "sports", "Amazon Sports and Outdoors, MMRec release",
            _counts(MMREC_EVAL, FREEREC_MMREC, 35_598, 18_357, 296_337, 218_409, 37_899, 40_029),
            _lgmrec_log("sports", "e26548f"), aliases=("amazon_sports", "mmrec-sports")),
    # Clothing is not in MMRec's evaluation table; its totals come from MMRec's loader log.
    _amazon("amazon-clothing", "clothing", "Amazon Clothing, Shoes and Jewelry, MMRec release",
            _counts(_lgmrec_log("clothing", "cbe44ca"), FREEREC_MMREC, 39_387, 23_033, 278_677, 197_338, 40_150,
                    41_189),
            _lgmrec_log("clothing", "cbe44ca"), aliases=("amazon_clothing", "mmrec-clothing")),
    # Electronics: the feature dimensions could not be verified in a citable source, so they are not checked.
    _amazon("amazon-elec", "elec", "Amazon Electronics, MMRec release",
            _counts(MMREC_EVAL, FREEREC_MMREC, 192_403, 63_001, 1_689_188, 1_254_441, 211_296, 223_451),
            None, aliases=("amazon-electronics", "amazon_elec", "mmrec-elec"),
            notes="The image features alone take about 1 GB of memory."),
    # MicroLens as MMRec ships it (a filtered MicroLens-100K); feature dimensions not verified, not checked.
    StandardDataset(
        name="microlens", title="MicroLens-100K, MMRec release", layout="mmrec", interactions=("microlens.inter",),
        features={"image": FeatureSource("image_feat.npy", "image"), "text": FeatureSource("text_feat.npy", "text")},
        default_modalities=("image", "text"),
        download=("the MicroLens files of MMRec's release (https://drive.google.com/drive/folders/"
                  "14UyTAh_YyDV8vzXteBJiy9jv8TBDK43w, linked from https://github.com/enoche/MMRec/tree/master/data)"),
        citation=("Ni et al., 'A Content-Driven Micro-Video Recommendation Dataset at Scale', arXiv:2309.15379; "
                  + _MMREC_PAPER),
        statistics=_counts(FREEREC_MICROLENS, FREEREC_MICROLENS, 98_129, 17_228, 705_174, 500_064, 101_121, 103_989),
        aliases=("microlens-100k", "mmrec-microlens")),
    StandardDataset(
        name="movielens-1m", title="MovieLens-1M with the multimodal features of Spillo et al.", layout="mmrec",
        interactions=("movielens_1m.inter",),
        features=_spillo_features({**_SPILLO_TEXT_IMAGE, "audio": ("whisper", "audio"),
                                   "audio_vggish": ("vggish", "audio"), "video": ("r2p1d", "video")}),
        default_modalities=("text", "image", "audio", "video"),
        download=_SPILLO_DOWNLOAD.format(folder="movielens_1m"),
        citation=f"{_SPILLO}; MovieLens-1M (Harper & Konstan, ACM TiiS 2015)",
        # no rows were dropped by the release's split (942,799 before and after), so every user and item remains
        statistics=_counts(ML1M_NOTEBOOK, ML1M_NOTEBOOK, 6_040, 2_981, 942_799, 751_879, 91_603, 99_317),
        notes=_BINARY_RATING, aliases=("ml-1m", "ml1m", "movielens1m")),
    StandardDataset(
        name="dbbook", title="DBbook with the multimodal features of Spillo et al.", layout="mmrec",
        interactions=("dbbook.inter",), features=_spillo_features(_SPILLO_TEXT_IMAGE),
        default_modalities=("text", "image"), download=_SPILLO_DOWNLOAD.format(folder="dbbook"),
        citation=f"{_SPILLO}; DBbook (ESWC 2014 Linked Open Data-enabled Recommender Systems Challenge)",
        # Items are not checked: the notebook prints 4,192 before its split drops 5 rows, and the
        # released count could not be read off a citable source.
        statistics={**_totals(DBBOOK_FILE, users=6_179),
                    **_totals(DBBOOK_NOTEBOOK, interactions=121_779, train=94_963, valid=9_478, test=17_338)},
        notes=_BINARY_RATING, aliases=("db-book",)),
)
