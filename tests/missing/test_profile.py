"""Who is missing: the per-decile record of a mask (what the report's table is computed from)."""
import numpy as np
import pytest

from mmstudy.missing.masking import make_mask
from mmstudy.missing.profile import drawn_pools, mask_record, popularity_deciles, who_is_missing

from .conftest import interactions

TWO = ["image", "text"]


def test_deciles_run_from_the_most_to_the_least_popular():
    # item i has 20 - i interactions (items 20..24 none); equal counts keep item order
    train = interactions([list(range(20 - u)) for u in range(20)], n_items=25)
    decile = popularity_deciles(train, 25)
    assert decile[0] == 0 and decile[24] == 9
    assert (np.diff(decile) >= 0).all() and np.bincount(decile).tolist() == [3, 2, 3, 2, 3, 2, 3, 2, 3, 2]


def test_fewer_items_than_deciles_leave_empty_deciles():
    decile = popularity_deciles(interactions([[0, 1, 2]], n_items=4), 4)
    assert decile.tolist() == [0, 2, 5, 7]


@pytest.mark.parametrize("setting, target, drawn", [("single", "text", ["text"]), ("same", None, TWO),
                                                    ("independent", None, TWO)])
def test_record_counts_every_item_once(setting, target, drawn):
    train = interactions([list(range(k)) for k in range(1, 60)], n_items=60)
    present = np.arange(60) % 7 != 0  # items 0, 7, ... lack text in the data
    mask = make_mask(60, TWO, 0.5, setting, target=target, seed=1, natural={"text": present})
    record = who_is_missing(mask, train)
    assert sum(record["items"]) == 60 and sorted(record["masked"]) == sorted(drawn)
    for name in drawn:
        assert sum(record["masked"][name]) == mask.synthetic(name).sum()
        assert sum(record["candidates"][name]) == drawn_pools(mask)[name].sum()
        assert sum(record["masked"][name]) == round(0.5 * sum(record["candidates"][name]))
    assert sum(record["natural"]["text"]) == (~present).sum() and sum(record["natural"]["image"]) == 0
    if setting == "same":  # the shared draw only takes items that have every modality
        assert sum(record["candidates"]["image"]) == present.sum()


def test_mask_record_states_the_mechanism_only_for_a_drawn_mask():
    train = interactions([[0, 1], [1, 2]], n_items=4)
    drawn = mask_record(make_mask(4, TWO, 0.5, "same", seed=0), train)
    assert (drawn["mechanism"], drawn["strength"]) == ("mcar", 0.0)
    natural = mask_record(make_mask(4, TWO, 0.0, "single", target="text", natural={"text": np.ones(4, bool)}), train)
    assert "mechanism" not in natural and natural["who_is_missing"]["masked"] == {}
    assert mask_record(None, train) == {}
