"""The Ray executor: identical results to the serial run, failures recorded, resources declared,
Ray started and stopped only when the executor started it, a clear error without Ray."""
from __future__ import annotations

import sys
import types

import pytest

from mmstudy.errors import ConfigError
from mmstudy.study.ray_executor import cell_resources, cluster_device, import_ray, ray_session
from mmstudy.study.runner import run_study
from mmstudy.study.store import ResultStore

from .study_toys import assert_same_tables, per_user_tables, tiny_cell

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def local_ray():
    """One local Ray instance for the module (startup takes seconds); the executor reuses it."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def test_ray_matches_the_serial_run_exactly(local_ray, serial_run, tmp_path):
    folder, cells, _ = serial_run
    summary = run_study(cells, tmp_path, executor="ray", progress=False)
    assert len(summary.done) == 4 and not summary.failed
    assert_same_tables(per_user_tables(folder, cells), per_user_tables(tmp_path, cells))
    assert local_ray.is_initialized()  # a session the executor did not start is left running


def test_ray_records_a_failing_cell_and_finishes_the_others(local_ray, tmp_path, capsys):
    bad = tiny_cell("BPR-MF", 5, params={"no_such_param": 1})
    good = tiny_cell("BPR-MF", 2)
    summary = run_study([bad, good], tmp_path, executor="ray", progress=False)
    assert summary.done == [good.fingerprint] and list(summary.failed) == [bad.fingerprint]
    assert "no_such_param" in summary.failed[bad.fingerprint]
    assert "1 failed cell(s):" in capsys.readouterr().out


def test_ray_runs_a_seed_batch_as_one_task_with_the_serial_results(local_ray, tmp_path):
    cells = [tiny_cell("BPR-MF", s).with_(train={"epochs": 2, "batch_size": 512, "seed_batch": True}) for s in (0, 1)]
    run_study(cells, tmp_path / "serial", threads=1, progress=False, energy=None)
    summary = run_study(cells, tmp_path / "ray", executor="ray", progress=False, energy=None)
    assert sorted(summary.done) == sorted(c.fingerprint for c in cells)
    assert_same_tables(per_user_tables(tmp_path / "serial", cells), per_user_tables(tmp_path / "ray", cells))
    assert ResultStore(tmp_path / "ray").manifest(cells[1].fingerprint).training.seeds == [0, 1]


def test_cuda_on_a_cluster_without_gpus_is_a_config_error(local_ray, tmp_path):
    with pytest.raises(ConfigError, match="Ray cluster has no GPU"):
        run_study([tiny_cell()], tmp_path, executor="ray", device="cuda", progress=False)
    assert cluster_device(local_ray, "auto") == "cpu"


def test_cells_declare_their_resources():
    assert cell_resources("cpu") == {"num_cpus": 1, "num_gpus": 0}
    assert cell_resources("cuda:1", cpus=2) == {"num_cpus": 2, "num_gpus": 1}


@pytest.mark.parametrize("device, gpus, expected", [("auto", 2, "cuda"), ("cuda:1", 1, "cuda"), ("cpu", 1, "cpu")])
def test_cluster_device_follows_the_cluster(device, gpus, expected):
    fake = types.SimpleNamespace(cluster_resources=lambda: {"CPU": 8, "GPU": gpus})
    assert cluster_device(fake, device) == expected


class FakeRay(types.ModuleType):
    """Records init/shutdown calls instead of starting Ray."""

    def __init__(self, initialized: bool):
        super().__init__("ray")
        self.initialized, self.calls = initialized, []

    def is_initialized(self):
        return self.initialized

    def init(self, **kwargs):
        self.calls.append(("init", kwargs))

    def shutdown(self):
        self.calls.append(("shutdown", {}))


def test_local_instance_is_started_fast_and_shut_down(monkeypatch):
    fake = FakeRay(initialized=False)
    monkeypatch.setitem(sys.modules, "ray", fake)
    with ray_session(None, num_cpus=3):
        pass
    (name, kwargs), (last, _) = fake.calls
    assert name == "init" and last == "shutdown"
    assert kwargs["num_cpus"] == 3 and kwargs["include_dashboard"] is False and kwargs["log_to_driver"] is False


def test_cluster_address_is_joined(monkeypatch):
    fake = FakeRay(initialized=False)
    monkeypatch.setitem(sys.modules, "ray", fake)
    with ray_session("ray://head:10001"):
        pass
    assert fake.calls[0][1]["address"] == "ray://head:10001" and "num_cpus" not in fake.calls[0][1]


def test_running_session_is_reused_and_left_running(monkeypatch):
    fake = FakeRay(initialized=True)
    monkeypatch.setitem(sys.modules, "ray", fake)
    with ray_session(None):
        pass
    assert fake.calls == []


def test_missing_ray_tells_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # makes `import ray` raise ImportError
    with pytest.raises(ConfigError, match=r'pip install "mmstudy\[ray\]"'):
        import_ray()
