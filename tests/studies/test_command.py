"""The command line every study kind shares: energy flags over the study file's `energy:` section."""
import json

import pytest
import yaml

from mmstudy.errors import ConfigError
from mmstudy.studies.compare import main
from mmstudy.study.results import StudyResults

TINY = {"name": "synthetic", "options": {"n_users": 100, "n_items": 80, "n_interactions": 1200, "seed": 3}}


def config(tmp_path, **extra):
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump({"name": "tiny", "data": TINY, "models": ["BPR-MF"], "seeds": [0],
                                    "train": {"epochs": 1}, "compare": {}, **extra}))
    return str(path)


def test_no_energy_turns_off_what_the_study_file_asks_for(tmp_path):
    out = tmp_path / "out"
    argv = ["--config", config(tmp_path, energy={"country": "DEU"}), "--output", str(out), "--quiet", "--threads", "1"]
    assert main([*argv, "--no-energy"]) == 0
    (manifest,) = StudyResults.load(out).manifests.values()
    assert manifest.energy.status == "off"
    spec = json.loads((out / "study.json").read_text())["spec"]
    assert spec["energy"] == {"enabled": False, "country": "DEU"}
    assert not (out / "tables" / "energy.csv").exists()


@pytest.mark.parametrize("flags, message", [
    (["--energy-country", "12"], "energy.country (--energy-country): '12' is not an ISO 3166-1 alpha-3 country code"),
    ([], "energy.enabled must be true or false, got 'sometimes'"),
])
def test_bad_energy_settings_are_one_error_line(tmp_path, capsys, flags, message):
    energy = {"enabled": "sometimes"} if not flags else {}
    argv = ["--config", config(tmp_path, energy=energy), "--output", str(tmp_path / "out"), *flags]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_by_default_one_single_threaded_worker_per_core_on_cpu(tmp_path, monkeypatch):
    from mmstudy.studies import command
    from mmstudy.study import worker

    monkeypatch.delenv("MMSTUDY_JOBS")
    monkeypatch.setattr(command, "cpu_cores", lambda: 3)
    assert command.default_jobs("cpu", "local") == 3
    assert command.default_jobs("cpu", "ray") == 1
    monkeypatch.setenv("MMSTUDY_JOBS", "2")
    assert command.default_jobs("cpu", "local") == 2
    monkeypatch.setenv("MMSTUDY_JOBS", "two")
    with pytest.raises(ConfigError, match="MMSTUDY_JOBS must be a positive integer .worker processes., got 'two'"):
        command.default_jobs("cpu", "local")
    monkeypatch.delenv("MMSTUDY_JOBS")
    for module in (command, worker):  # a one-core machine: one worker, cells run in this process
        monkeypatch.setattr(module, "cpu_cores", lambda: 1)
    out = tmp_path / "out"
    assert main(["--config", config(tmp_path), "--output", str(out), "--quiet", "--no-energy"]) == 0
    run = json.loads((out / "study.json").read_text())["run"]
    assert (run["jobs"], run["threads"]) == (1, 1)


MMREC_HEADER = "userID\titemID\trating\tx_label\n"
ROWS = [(u, i) for u in range(6) for i in range(5) if (u + i) % 3]


def mmrec_folder(tmp_path, ratings):
    """A small MMRec-layout dataset whose `rating` column holds `ratings` (cycled over the rows)."""
    folder = tmp_path / "books"
    folder.mkdir()
    rows = [f"{u}\t{i}\t{ratings[k % len(ratings)]}\t{k % 3}\n" for k, (u, i) in enumerate(ROWS)]
    (folder / "books.inter").write_text(MMREC_HEADER + "".join(rows))
    return folder


def test_a_data_file_error_stops_the_study_before_any_cell(tmp_path, capsys):
    """0/1 ratings without min_rating: one line and exit 2 before anything is written, instead of
    a failure per cell."""
    data = {"name": str(mmrec_folder(tmp_path, [0, 1]))}
    out = tmp_path / "out"
    assert main(["--config", config(tmp_path, data=data), "--output", str(out), "--quiet", "--no-energy"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and "holds explicit feedback (0: 10, 1: 10)" in err
    assert not out.exists()


def test_a_loader_warning_is_said_once_in_one_line(tmp_path):
    import warnings

    from mmstudy.data.feedback import FeedbackWarning

    data = {"name": str(mmrec_folder(tmp_path, [1, 3, 5]))}
    argv = ["--config", config(tmp_path, data=data, seeds=[0, 1]), "--output", str(tmp_path / "out"), "--quiet",
            "--no-energy"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert main(argv) == 0  # two cells in this process: they load the data again, silently
        said = [w for w in caught if issubclass(w.category, FeedbackWarning)]
        assert len(said) == 1 and "holds graded ratings (1: 7, 3: 7, 5: 6)" in str(said[0].message)
        line = warnings.formatwarning(said[0].message, FeedbackWarning, "loading.py", 81)
    assert line == f"warning: {said[0].message}\n"  # as the command shows it: no source path or line
    manifest = next(iter(StudyResults.load(tmp_path / "out").manifests.values()))
    assert manifest.dataset.meta["feedback"]["rule"] == "default"  # the cells record the choice instead
