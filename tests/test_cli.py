"""The command line: run, data info, list, and clear errors."""
import json

import pytest
import torch

from mmstudy.cli import cell_from_args, main


@pytest.fixture(autouse=True)
def one_thread():
    torch.set_num_threads(1)


def test_run_prints_metrics_and_writes_results(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["run", "--dataset", "synthetic", "--model", "bpr", "--output", str(out),
                 "--set", "epochs=2", "--set", "data.options.n_users=150", "--set", "data.options.n_items=100",
                 "--set", "data.options.n_interactions=2000", "--set", "reg_weight=1e-3", "--threads", "1"])
    text = capsys.readouterr().out
    assert code == 0
    assert "Recall" in text and "BPR-MF on synthetic" in text
    cell_dir = next((out / "cells").iterdir())
    manifest = json.loads((cell_dir / "result.json").read_text())
    assert manifest["cell"]["params"] == {"reg_weight": 0.001}
    assert manifest["cell"]["train"] == {"epochs": 2}
    assert (cell_dir / "per_user.parquet").exists()
    assert json.loads((out / "study.json").read_text())["run"]["threads"] == 1


def test_run_no_energy_records_energy_as_off(tmp_path):
    out = tmp_path / "run"
    assert main(["run", "--model", "BPR-MF", "--output", str(out), "--set", "epochs=1", "--threads", "1",
                 "--set", "data.options.n_users=100", "--set", "data.options.n_items=80",
                 "--set", "data.options.n_interactions=1500", "--no-energy"]) == 0
    manifest = json.loads(next((out / "cells").glob("*/result.json")).read_text())
    assert manifest["energy"]["status"] == "off"
    assert json.loads((out / "study.json").read_text())["run"]["energy"]["enabled"] is False


def test_set_routes_bare_keys_to_params_and_train():
    cell = cell_from_args("synthetic", "freedom", ["knn_k=5", "lr=1e-3", "data.split=temporal", "seed_batch=true"])
    assert cell.model == "FREEDOM" and cell.params == {"knn_k": 5}
    assert cell.train == {"lr": 0.001, "seed_batch": True} and cell.data.split == "temporal"


@pytest.mark.parametrize("argv, message", [
    (["run", "--model", "freedon"], "Did you mean 'FREEDOM'"),
    (["run", "--model", "VBPR", "--set", "knn=3"], "unknown key 'knn'"),
    (["run", "--model", "VBPR", "--dataset", "lastfm2k"], "lastfm-2k"),
    (["data", "info", "movilens-100k"], "movielens-100k"),
    (["run", "--model", "VBPR", "--energy-country", "France"], "energy.country (--energy-country): 'France' is not"),
])
def test_errors_are_one_clear_line(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err


TINY = ["--set", "data.options.n_users=80", "--set", "data.options.n_items=60", "--set", "data.options.n_interactions=900",
        "--set", "epochs=1", "--threads", "1"]


@pytest.mark.parametrize("setting, message", [
    ("epochs=five", "--set: train.epochs must be an integer, got 'five'"),
    ("lr=-1", "--set: train.lr must be a finite number > 0, got -1"),
    ("eval_memory_mb=0", "--set: train.eval_memory_mb must be a finite number > 0, got 0"),
    ("eval_memory_mb=.inf", "--set: train.eval_memory_mb must be a finite number, got inf"),
    ("eval_memory_mb=.nan", "--set: train.eval_memory_mb must be a finite number, got nan"),
    ("eval_memory_mb=lots", "--set: train.eval_memory_mb must be a finite number, got 'lots'"),
    ("device=cuda", "--set: train.device cannot be set here: it is --device"),
    ("seed_batch=maybe", "--set: train.seed_batch must be true or false, got 'maybe'"),
    ("seed=1.5", "--set.seed must be an integer, got 1.5"),
    ("seed=true", "--set.seed must be an integer, got True"),
    ("seed=-1", "--set.seed must be a non-negative integer (numpy refuses negative seeds), got -1"),
    ("cutoffs=[0,20]", "--set.cutoffs must be positive integers, got [0, 20]"),
    ("missing.strategy=meen", "--set: unknown missing-modality strategy 'meen'. Did you mean 'mean'? Known: "
                              "autoencoder, cross_modal, dropped, graph_autoencoder, heat, mean, modality_dropout, "
                              "neighbour_mean, ppr, propagation, random, random_matched, zeros."),
    ("missing=zeros", "--set.missing must be a mapping (key: value), got 'zeros'"),
    ("data.features.image=nosuch-preset", "--set: unknown extractor preset 'nosuch-preset'. Known: "
                                          "all-mpnet-base-v2, clip-vit-b32, efficientnet-lite0, efficientnet-lite2, "
                                          "minilm-l3-onnx, minilm-l6, resnet50-1by2-nsfw, resnet50-imagenet, "
                                          "vgg19-imagenet."),
])
def test_bad_set_values_are_one_line_before_anything_runs(setting, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["run", "--model", "VBPR", *TINY, "--set", setting]) == 2
    assert capsys.readouterr().err == f"error: {message}\n"
    assert not (tmp_path / "reports").exists()


def test_run_threads_must_be_positive(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["run", "--model", "VBPR", "--threads", "0"]) == 2
    assert capsys.readouterr().err == "error: --threads must be at least 1, got 0\n"
    assert not (tmp_path / "reports").exists()


def test_an_input_error_inside_the_cell_is_one_line(capsys, tmp_path):
    out = tmp_path / "run"
    assert main(["run", "--model", "VBPR", *TINY, "--set", "data.features.audio=minilm-l6", "--output",
                 str(out)]) == 1  # the dataset's modalities are known once the cell loads it
    err = capsys.readouterr().err.splitlines()[-1]
    assert err == ("error: ConfigError: data.features names modality 'audio', which dataset 'synthetic' does not "
                   "have; available: ['image', 'text']")
    assert "Traceback" not in err and "summary.tracebacks" not in err
    assert "tracebacks" not in json.loads((out / "study.json").read_text())["summary"]


def test_a_bug_inside_the_cell_is_one_line_pointing_at_its_traceback(capsys, tmp_path, monkeypatch):
    from mmstudy.study import worker

    def bug(*args, **kwargs):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(worker, "run_cell", bug)
    out = tmp_path / "run"
    assert main(["run", "--model", "VBPR", *TINY, "--output", str(out)]) == 1
    err = capsys.readouterr().err.splitlines()[-1]
    assert err == (f"error: ZeroDivisionError: division by zero (an unexpected error: its traceback is in "
                   f"{out / 'study.json'}, summary.tracebacks)")
    traces = json.loads((out / "study.json").read_text())["summary"]["tracebacks"]
    (trace,) = traces.values()
    assert trace.startswith("Traceback (most recent call last):") and "in bug" in trace


def test_default_output_folders_stay_under_reports():
    from mmstudy.cli import DEFAULT_REPORTS, new_output_dir

    for prefix in ("compare-../../etc", "run-a/b", "../..", "x\\y z"):
        folder = new_output_dir(prefix)
        assert folder.parent == DEFAULT_REPORTS and "/" not in folder.name and ".." not in folder.name
    assert new_output_dir("missing-quick").name.startswith("missing-quick-")


def test_data_info(capsys):
    assert main(["data", "info", "synthetic", "--set", "n_users=100", "--set", "n_items=80",
                 "--set", "n_interactions=1500"]) == 0
    text = capsys.readouterr().out
    assert "100 users, 80 items" in text and "image" in text and "coverage" in text


def test_list_registries(capsys):
    assert main(["list"]) == 0
    text = capsys.readouterr().out
    assert "models:" in text and "FREEDOM" in text and "propagation" in text and "Recall" in text
    strategies = next(line for line in text.splitlines() if line.startswith("strategies: "))
    assert strategies.startswith("strategies: dropped, ") and "zeros" in strategies  # dropped is a strategy too
    assert "mechanisms: content, mcar, popularity" in text and "phases: new_items, serving, train_and_test" in text


def write_rated(directory, ratings):
    directory.mkdir(parents=True)
    (directory / "items.tsv").write_text("item\ttitle\n1\tA\n2\tB\n")
    rows = [f"u{k}\t{1 + k % 2}\t{r}" for k, r in enumerate(ratings)]
    (directory / "interactions.tsv").write_text("\n".join(["user\titem\trating", *rows]) + "\n")
    return directory


def test_data_info_shows_ratings_and_threshold(tmp_path, capsys):
    d = write_rated(tmp_path / "shop", [5, 4, 1, 5, 3])
    assert main(["data", "info", str(d), "--set", "min_rating=4"]) == 0
    text = capsys.readouterr().out
    assert f"ratings: column 'rating' of {d / 'interactions.tsv'}: 1: 1, 3: 1, 4: 1, 5: 2" in text
    assert "positives: rows with rating >= 4 are positives, as requested; 3 kept, 2 dropped (rule: user)" in text
    assert main(["data", "info", str(d), "--set", "min_rating=all", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["ratings"] is True and info["interactions"] == 5
    assert info["feedback"]["distribution"] == {"1": 1, "3": 1, "4": 1, "5": 2}
    assert (info["feedback"]["min_rating"], info["feedback"]["rule"], info["feedback"]["requested"]) == (None, "user", "all")


def test_data_info_like_dislike_is_one_error_line(tmp_path, capsys):
    d = write_rated(tmp_path / "shop", [1, 0, 1])
    assert main(["data", "info", str(d)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "(0: 1, 1: 2)" in err and "min_rating='all' keeps every row" in err


def test_data_info_without_ratings(capsys):
    assert main(["data", "info", "synthetic", "--set", "n_users=50", "--set", "n_items=40",
                 "--set", "n_interactions=500"]) == 0
    text = capsys.readouterr().out
    assert "ratings: none\npositives: no rating column: implicit feedback, every row is a positive" in text


def test_data_info_prints_the_default_rule_warning_as_one_line(tmp_path, capsys):
    d = write_rated(tmp_path / "shop", [5, 3])
    assert main(["data", "info", str(d)]) == 0
    captured = capsys.readouterr()
    assert captured.err == (f"warning: {d / 'interactions.tsv'}: column 'rating' holds graded ratings (3: 1, 5: 1); "
                            "every row counts as a positive by default. Pass min_rating=<value> to keep only ratings "
                            ">= value, or min_rating='all' to make the choice explicit\n")
    assert "positives: graded ratings, none <= 0: every row is a positive by default (rule: default)" in captured.out


@pytest.mark.parametrize("name, folder, files", [
    ("amazon-baby", "amazon-baby", ["baby.inter", "image_feat.npy", "text_feat.npy"]),
    ("ml-1m", "movielens-1m", ["movielens_1m.inter", "all-MiniLM-L6-v2.npy", "vit_cls.npy", "whisper.npy",
                               "r2p1d.npy"]),
])
def test_data_info_on_an_absent_standard_dataset_says_what_to_download(name, folder, files, capsys, tmp_path,
                                                                        monkeypatch):
    monkeypatch.setenv("MMSTUDY_DATA", str(tmp_path))
    assert main(["data", "info", name]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    paths = ", ".join(str(tmp_path / folder / f) for f in files)
    assert f"is missing {', '.join(files)}. Download " in err and f"put the files at {paths};" in err
    assert "https://" in err
