"""A stand-in for CodeCarbon's tracker, shared by the energy tests (importable as `energy_toys`)."""
from contextlib import contextmanager
from types import SimpleNamespace

import pytest

from mmstudy.study import energy
from mmstudy.study.manifest import EnergyTracker

FAKE_INFO = EnergyTracker(name="fake", version="0", mode="CPU: TDP estimate", tracking_mode="process")


class FakeTracker:
    """CodeCarbon's task interface: task i uses i mWh (so sums are checkable); can fail on demand."""

    def __init__(self, fail: str | None = None):
        self.calls, self.tasks, self.fail = [], 0, fail

    def start_task(self, name):
        self.calls.append(("start", name))
        if self.fail == "start":
            raise RuntimeError("no RAPL access")

    def stop_task(self):
        self.calls.append(("stop",))
        if self.fail == "stop":
            raise PermissionError("counter unreadable")
        self.tasks += 1
        kwh = self.tasks * 1e-3
        return SimpleNamespace(duration=1.0, energy_consumed=kwh, emissions=kwh / 2, cpu_energy=kwh * 0.8,
                               gpu_energy=None, ram_energy=kwh * 0.2)


@contextmanager
def faked_tracker(tracker: FakeTracker | None = None):
    """Every energy meter made inside the block measures with `tracker` (in this process)."""
    tracker = tracker or FakeTracker()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(energy, "_tracker", lambda country: (tracker, FAKE_INFO))
        yield tracker
