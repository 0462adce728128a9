"""allocator.keep_freed_memory: the mallopt calls, the opt-out, platforms without mallopt."""
import ctypes

import pytest

from mmstudy import allocator
from mmstudy.allocator import allocator_state, keep_freed_memory


class FakeLibc:
    """A C library whose `mallopt` records its calls (and accepts ctypes' argtypes/restype)."""

    def __init__(self, result: int = 1):
        self.calls = []

        def mallopt(param: int, value: int) -> int:
            self.calls.append((param, value))
            return result

        self.mallopt = mallopt


@pytest.fixture
def fresh(monkeypatch):
    keep_freed_memory.cache_clear()
    monkeypatch.delenv(allocator.ENV, raising=False)
    monkeypatch.setattr(allocator.sys, "platform", "linux")
    yield
    keep_freed_memory.cache_clear()


def use_libc(monkeypatch, libc):
    monkeypatch.setattr(allocator.ctypes, "CDLL", lambda name: libc)


def test_disables_mmap_and_trimming(fresh, monkeypatch):
    libc = FakeLibc()
    use_libc(monkeypatch, libc)
    assert allocator_state() == "default"
    assert keep_freed_memory() is True and keep_freed_memory() is True
    assert libc.calls == [(allocator.M_MMAP_MAX, 0), (allocator.M_TRIM_THRESHOLD, 2**31 - 1)]  # once
    assert allocator_state() == "keep-freed"


@pytest.mark.parametrize("value", ["default", "OFF", "0"])
def test_opt_out(fresh, monkeypatch, value):
    libc = FakeLibc()
    use_libc(monkeypatch, libc)
    monkeypatch.setenv(allocator.ENV, value)
    assert keep_freed_memory() is False and libc.calls == [] and allocator_state() == "default"


def test_no_mallopt_or_refused(fresh, monkeypatch):
    def missing(name):
        raise OSError("no libc")

    monkeypatch.setattr(allocator.ctypes, "CDLL", missing)
    assert keep_freed_memory() is False
    keep_freed_memory.cache_clear()
    use_libc(monkeypatch, FakeLibc(result=0))  # e.g. musl's stub
    assert keep_freed_memory() is False


def test_other_platforms_untouched(fresh, monkeypatch):
    libc = FakeLibc()
    use_libc(monkeypatch, libc)
    monkeypatch.setattr(allocator.sys, "platform", "darwin")
    assert keep_freed_memory() is False and libc.calls == []


def test_real_glibc_accepts_it(fresh):
    try:
        ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        pytest.skip("no glibc here")
    assert keep_freed_memory() is True
