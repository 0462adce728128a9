"""Energy and carbon of a cell, per phase, measured with CodeCarbon (the optional `energy` extra).

The executor wraps a cell's phases in `meter.phase(name)`: `data` (loading and split),
`feature_extraction` (nested inside `data` when an extractor runs; the outer phase pauses),
`training` (masking and imputation, every trial's fit with its validation passes) and `test`
(the one test evaluation). Each phase is a CodeCarbon task of one tracker per process, so
hardware detection runs once. CodeCarbon runs offline: no network, nothing written (no
emissions.csv), its log quiet; kWh become CO2 through the grid mix of `country` from CodeCarbon's
bundled data (the world average without one). Energy never fails a cell: without CodeCarbon,
or when it fails, the record says `unavailable` and why.
"""
from __future__ import annotations

import difflib
import logging
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

from ..errors import ConfigError
from .manifest import EnergyRecord, EnergyTracker, PhaseEnergy

PHASES = ("data", "feature_extraction", "training", "test")
NOT_INSTALLED = 'codecarbon is not installed (pip install "mmstudy[energy]")'
TRACKING_MODE = "process"  # this process's CPU share and memory: parallel cells do not count each other
CPU_MODES = {"intel_rapl": "RAPL counters", "constant": "TDP estimate",
             "cpu_load": "CPU-load estimate (TDP x this process's CPU share)",
             "intel_power_gadget": "Intel Power Gadget", "windows_emi": "Windows energy meter"}
HARDWARE_MODES = {"GPU": "NVML energy counter", "RAM": "memory-size estimate"}


@dataclass(frozen=True)
class EnergyConfig:
    """The study file's `energy:` section; `--no-energy` and `--energy-country` override it.

    Parameters
    ----------
    enabled : measure energy and carbon (with the `energy` extra installed).
    country : ISO 3166-1 alpha-3 code of the grid (FRA, DEU, USA, ...) whose carbon intensity
        converts kWh to CO2; None: CodeCarbon's world average (475 g CO2eq/kWh).
    """

    enabled: bool = True
    country: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.enabled, bool):
            raise ConfigError(f"energy.enabled must be true or false, got {self.enabled!r}")
        object.__setattr__(self, "country", check_country(self.country))


def check_country(code) -> str | None:
    """`code` upper-cased, if it is an alpha-3 code CodeCarbon has grid data for (checked when
    CodeCarbon is installed); ConfigError otherwise, with the closest known code."""
    if code is None:
        return None
    if not (isinstance(code, str) and len(code) == 3 and code.isalpha()):
        raise ConfigError(f"energy.country (--energy-country): {code!r} is not an ISO 3166-1 alpha-3 country code "
                          "(e.g. FRA, DEU, USA); leave it out for the world average")
    code = code.upper()
    known = _known_countries()
    if known is not None and code not in known:
        close = difflib.get_close_matches(code, known, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ConfigError(f"energy.country (--energy-country): CodeCarbon has no grid data for {code!r}.{hint}")
    return code


def _known_countries() -> list[str] | None:
    try:
        from codecarbon.input import DataSource
    except ImportError:
        return None
    return sorted(DataSource().get_global_energy_mix_data())


class StatusMeter:
    """A meter that measures nothing and records a fixed status (`off`, `unavailable`)."""

    def __init__(self, record: EnergyRecord | None):
        self._record = record

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        yield

    def record(self) -> EnergyRecord | None:
        return self._record


class CodeCarbonMeter:
    """Measures one cell's phases as tasks of a CodeCarbon tracker; a failing tracker turns the
    record `unavailable` (with CodeCarbon's error) and the cell goes on."""

    def __init__(self, tracker, info: EnergyTracker):
        self._tracker, self._info = tracker, info
        self._active: list[str] = []
        self._totals: dict[str, dict[str, float]] = {}
        self._failure: str | None = None

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Measure the block as phase `name`; a phase already running pauses until it ends."""
        outer = self._active[-1] if self._active else None
        if outer is not None:
            self._stop(outer)
        self._active.append(name)
        self._start(name)
        try:
            yield
        finally:
            self._stop(name)
            self._active.pop()
            if outer is not None:
                self._start(outer)

    def _start(self, name: str) -> None:
        if self._failure is None:
            self._guard(lambda: self._tracker.start_task(name))

    def _stop(self, name: str) -> None:
        if self._failure is None:
            data = self._guard(self._tracker.stop_task)
            if data is None:
                self._failure = self._failure or "CodeCarbon returned no measurement for a task"
                return
            total = self._totals.setdefault(name, dict.fromkeys(_CODECARBON_FIELDS, 0.0))
            for key, value in _phase_values(data).items():
                total[key] += value

    def _guard(self, call):
        try:
            return call()
        except Exception as exc:  # energy must never fail a cell
            self._failure = f"CodeCarbon failed: {type(exc).__name__}: {exc}"
            _TRACKERS.clear()  # its task state is unknown now: the next cell starts a fresh tracker
            return None

    def record(self) -> EnergyRecord:
        if self._failure is not None:
            return EnergyRecord(status="unavailable", reason=self._failure, tracker=self._info)
        return recorded({name: PhaseEnergy(**values) for name, values in self._totals.items()}, self._info)


def recorded(phases: dict[str, PhaseEnergy], tracker: EnergyTracker) -> EnergyRecord:
    """A recorded energy block of these phases, its totals their sums."""
    return EnergyRecord(status="recorded", seconds=sum(p.seconds for p in phases.values()),
                        kwh=sum(p.kwh for p in phases.values()),
                        co2_kg=sum(p.co2_kg for p in phases.values()), phases=phases, tracker=tracker)


def member_energy(shared: EnergyRecord | None, own: EnergyRecord | None, members: int) -> EnergyRecord | None:
    """A seed-batch cell's energy: its share (1 / `members`) of each phase the batch's cells shared
    (data, training) plus its own phases (test). A block that is not recorded (off, unavailable)
    is passed on as it is."""
    if shared is None or own is None or not shared.recorded:
        return shared
    if not own.recorded:
        return own
    phases = {name: PhaseEnergy(**{f: getattr(p, f) / members for f in _CODECARBON_FIELDS})
              for name, p in shared.phases.items()}
    return recorded({**phases, **own.phases}, own.tracker)


_CODECARBON_FIELDS = {  # PhaseEnergy field: CodeCarbon's EmissionsData attribute
    "seconds": "duration", "kwh": "energy_consumed", "co2_kg": "emissions",
    "cpu_kwh": "cpu_energy", "gpu_kwh": "gpu_energy", "ram_kwh": "ram_energy"}


def _phase_values(data) -> dict[str, float]:
    """A CodeCarbon task's EmissionsData as PhaseEnergy values."""
    return {key: float(getattr(data, name) or 0.0) for key, name in _CODECARBON_FIELDS.items()}


def energy_meter(config: EnergyConfig | None):
    """The meter for one cell: CodeCarbon's, or a StatusMeter saying why there is none (config
    None: a caller that does not ask about energy; its manifest gets no `energy` block)."""
    if config is None:
        return StatusMeter(None)
    if not config.enabled:
        return StatusMeter(EnergyRecord(status="off", reason="turned off (--no-energy or energy.enabled: false)"))
    try:
        tracker, info = _tracker(config.country)
    except ImportError:
        return StatusMeter(EnergyRecord(status="unavailable", reason=NOT_INSTALLED))
    except Exception as exc:  # energy must never fail a cell
        return StatusMeter(EnergyRecord(status="unavailable",
                                        reason=f"CodeCarbon failed to start: {type(exc).__name__}: {exc}"))
    return CodeCarbonMeter(tracker, info)


_TRACKERS: dict = {}


def _tracker(country: str | None):
    """This process's tracker for `country` and what it records about itself (made once)."""
    if country not in _TRACKERS:
        import codecarbon
        from codecarbon import OfflineEmissionsTracker

        logging.getLogger("codecarbon").setLevel(logging.ERROR)  # before init: it logs while starting
        tracker = OfflineEmissionsTracker(
            country_iso_code=country, tracking_mode=TRACKING_MODE, log_level="error",
            output_methods=[], emissions_endpoint=None, electricitymaps_api_token=None,  # no file, no network
            project_name="mmstudy")
        tracker.start_task("probe")  # detects the hardware now, so every cell gets the same record
        tracker.stop_task()
        _TRACKERS[country] = (tracker, EnergyTracker(
            name="codecarbon", version=codecarbon.__version__, mode=measurement_mode(tracker),
            tracking_mode=TRACKING_MODE, country=country, hardware=list(tracker._conf.get("hardware", []))))
    return _TRACKERS[country]


def measurement_mode(tracker) -> str:
    """How the tracker measures, per device: e.g. 'CPU: RAPL counters; RAM: memory-size estimate'."""
    parts = []
    for device in getattr(tracker, "_hardware", []):
        kind = type(device).__name__
        how = getattr(device, "_mode", None)
        parts.append(f"{kind}: {CPU_MODES.get(how, how) if how else HARDWARE_MODES.get(kind, repr(device))}")
    return "; ".join(sorted(parts)) or "unknown"
