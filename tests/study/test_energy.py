"""Energy per cell: settings and their bad values, the phase meter (nesting, failures), the executor
recording phases (feature extraction included), the unavailable and off paths, and real CodeCarbon
offline (no network, no files, quiet) when it is installed."""
import socket
import sys
from dataclasses import replace

import pytest

from mmstudy.errors import ConfigError
from mmstudy.study import energy
from mmstudy.study.energy import NOT_INSTALLED, CodeCarbonMeter, EnergyConfig, energy_meter
from mmstudy.study.executor import run_cell
from mmstudy.study.spec import parse_spec
from mmstudy.study.workspace import Workspace

from energy_toys import FAKE_INFO, FakeTracker, faked_tracker

from .study_toys import TINY_DATA, tiny_cell


@pytest.fixture
def fake():
    """Every meter made in the test measures with one FakeTracker."""
    with faked_tracker() as tracker:
        yield tracker


@pytest.mark.parametrize("values, message", [
    ({"country": "XX"}, "'XX' is not an ISO 3166-1 alpha-3 country code"),
    ({"country": "F1A"}, "'F1A' is not an ISO 3166-1 alpha-3"),
    ({"country": 250}, "250 is not an ISO 3166-1 alpha-3"),
    ({"enabled": "yes"}, "energy.enabled must be true or false, got 'yes'"),
])
def test_bad_settings_are_one_clear_error(values, message):
    with pytest.raises(ConfigError, match=message):
        EnergyConfig(**values)


def test_study_files_read_the_energy_section_and_name_unknown_keys():
    base = {"name": "s", "data": {"name": "synthetic"}, "models": ["BPR-MF"], "missing": {}}
    assert parse_spec(base, "missing", "s.yaml").energy == EnergyConfig()
    assert parse_spec({**base, "energy": {"enabled": False}}, "missing", "s.yaml").energy.enabled is False
    with pytest.raises(ConfigError, match=r"s.yaml: unknown key 'contry' in energy. Did you mean 'country'"):
        parse_spec({**base, "energy": {"contry": "FRA"}}, "missing", "s.yaml")


def test_country_codes_are_upper_cased_and_checked_against_codecarbon():
    pytest.importorskip("codecarbon")
    assert EnergyConfig(country="fra").country == "FRA"
    with pytest.raises(ConfigError, match="CodeCarbon has no grid data for 'FRN'"):
        EnergyConfig(country="FRN")


def test_phases_nest_by_pausing_the_outer_one_and_sum_into_the_record():
    tracker = FakeTracker()
    meter = CodeCarbonMeter(tracker, FAKE_INFO)
    with meter.phase("data"):
        with meter.phase("feature_extraction"):
            pass
    with meter.phase("training"):
        pass
    assert tracker.calls == [("start", "data"), ("stop",), ("start", "feature_extraction"), ("stop",),
                             ("start", "data"), ("stop",), ("start", "training"), ("stop",)]
    record = meter.record()
    assert record.recorded and record.tracker == FAKE_INFO
    assert record.phases["data"].kwh == pytest.approx(1e-3 + 3e-3)  # before and after the extraction
    assert record.phases["feature_extraction"].kwh == pytest.approx(2e-3)
    assert record.phases["training"].co2_kg == pytest.approx(2e-3) and record.phases["training"].gpu_kwh == 0.0
    assert record.kwh == pytest.approx(sum(p.kwh for p in record.phases.values()))
    assert record.seconds == 4.0


def test_a_phase_ends_its_task_when_the_block_raises():
    tracker = FakeTracker()
    meter = CodeCarbonMeter(tracker, FAKE_INFO)
    with pytest.raises(ValueError):
        with meter.phase("training"):
            raise ValueError("training diverged")
    assert tracker.calls[-1] == ("stop",) and meter.record().phases["training"].kwh == 1e-3


@pytest.mark.parametrize("fail, reason", [("start", "RuntimeError: no RAPL access"),
                                          ("stop", "PermissionError: counter unreadable")])
def test_a_failing_tracker_never_fails_the_cell(monkeypatch, fail, reason):
    monkeypatch.setattr(energy, "_tracker", lambda country: (FakeTracker(fail), FAKE_INFO))
    outcome = run_cell(tiny_cell(), Workspace(), energy=EnergyConfig())
    record = outcome.manifest.energy
    assert record.status == "unavailable" and reason in record.reason and record.kwh is None
    assert len(outcome.per_user) > 0 and outcome.manifest.test.evaluations == 1


def test_a_tracker_that_cannot_start_is_unavailable_with_its_reason(monkeypatch):
    def broken(country):
        raise OSError("/sys/class/powercap: permission denied")
    monkeypatch.setattr(energy, "_tracker", broken)
    record = run_cell(tiny_cell(), Workspace(), energy=EnergyConfig()).manifest.energy
    assert record.status == "unavailable"
    assert record.reason == "CodeCarbon failed to start: OSError: /sys/class/powercap: permission denied"


def test_without_codecarbon_the_record_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(energy, "_TRACKERS", {})
    monkeypatch.setitem(sys.modules, "codecarbon", None)  # import codecarbon -> ImportError
    record = energy_meter(EnergyConfig()).record()
    assert record.status == "unavailable" and record.reason == NOT_INSTALLED and "mmstudy[energy]" in record.reason


def test_off_and_not_asked_are_told_apart():
    assert energy_meter(EnergyConfig(enabled=False)).record().status == "off"
    assert energy_meter(None).record() is None
    assert run_cell(tiny_cell(), Workspace()).manifest.to_dict().get("energy") is None


def test_the_executor_measures_data_training_and_test(fake):
    outcome = run_cell(tiny_cell("VBPR", strategy="mean"), Workspace(), energy=EnergyConfig())
    record = outcome.manifest.energy
    assert list(record.phases) == ["data", "training", "test"]  # in the order they ran
    assert [c[1] for c in fake.calls if c[0] == "start"] == ["data", "training", "test"]
    assert record.kwh == pytest.approx(6e-3) and record.phases["test"].kwh == pytest.approx(3e-3)
    assert outcome.manifest.to_dict()["energy"]["tracker"]["mode"] == "CPU: TDP estimate"


def test_feature_extraction_is_its_own_phase_and_only_when_it_runs(fake, tmp_path):
    featured = tiny_cell().with_(data=replace(TINY_DATA, features={"text": "precomputed"}))
    ws = Workspace(tmp_path)
    first = run_cell(featured, ws, energy=EnergyConfig()).manifest.energy
    again = run_cell(featured.with_(seed=1), ws, energy=EnergyConfig()).manifest.energy  # dataset cached
    assert list(first.phases) == ["data", "feature_extraction", "training", "test"]
    assert list(again.phases) == ["data", "training", "test"]


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("CodeCarbon tried to open a connection")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_codecarbon_offline_records_kwh_and_co2_quietly_without_files(tmp_path, monkeypatch, capfd, no_network):
    codecarbon = pytest.importorskip("codecarbon")
    monkeypatch.chdir(tmp_path)
    record = run_cell(tiny_cell(), Workspace(), energy=EnergyConfig(country="FRA")).manifest.energy
    assert record.recorded and record.kwh > 0 and record.co2_kg > 0
    assert set(record.phases) == {"data", "training", "test"}
    assert record.kwh == pytest.approx(sum(p.kwh for p in record.phases.values()))
    assert 20 < record.co2_kg / record.kwh * 1000 < 150  # France's grid: tens of g CO2eq per kWh
    tracker = record.tracker
    assert tracker.name == "codecarbon" and tracker.version == codecarbon.__version__ and tracker.country == "FRA"
    assert "CPU" in tracker.mode and tracker.tracking_mode == "process" and tracker.hardware
    assert list(tmp_path.iterdir()) == []  # no emissions.csv, no lock or log file
    assert "codecarbon" not in capfd.readouterr().err
