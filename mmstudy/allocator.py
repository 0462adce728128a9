"""Process-wide memory-allocator setting for training on CPU.

By default glibc serves every large allocation (above its 128 KiB-32 MiB mmap threshold) with a
fresh `mmap` and unmaps it on free, so each big temporary tensor of a training step, again and
again, is page-faulted in 4 KiB at a time. On whole-graph models at Amazon-Elec scale that is
over half of a step (MMGCN, one thread: 13.9 s -> 6.0 s per batch of 2048 with this setting).
Keeping freed memory in the heap for reuse (mallopt `M_MMAP_MAX=0`, `M_TRIM_THRESHOLD` at its
maximum) removes those faults.

The price is fragmentation: a kept heap grows whenever a big block is requested while the freed
ones have been split by long-lived small allocations. Loops that allocate the same big block
again and again therefore fill one instead (evaluation's score block, the kNN similarity chunk):
that took LATTICE's Amazon-Elec peak RSS from 12.5 to 3.8 GiB and NGCF's from 15.9 to 5.7 GiB.
`heap_bytes` (the heap's size) lets tests and benchmarks check it.

Applied once per process by `training.train_epoch`; `MMSTUDY_MALLOC=default` opts out. A no-op
where the C library has no `mallopt` (non-Linux, musl).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from functools import lru_cache

ENV = "MMSTUDY_MALLOC"
M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4  # glibc's mallopt parameter numbers
INT_MAX = 2**31 - 1


@lru_cache(maxsize=1)
def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


@lru_cache(maxsize=1)
def keep_freed_memory() -> bool:
    """Ask glibc malloc to keep freed memory for reuse instead of unmapping it; True if applied."""
    if os.environ.get(ENV, "").strip().lower() in ("default", "off", "0", "no"):
        return False
    mallopt = getattr(_libc(), "mallopt", None)
    if mallopt is None:
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_MMAP_MAX, 0)) and bool(mallopt(M_TRIM_THRESHOLD, INT_MAX))


def allocator_state() -> str:
    """'keep-freed' if `keep_freed_memory` took effect in this process, else 'default' (for manifests)."""
    info = keep_freed_memory.cache_info()
    return "keep-freed" if info.currsize and keep_freed_memory() else "default"


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost".split()]


def heap_bytes() -> int | None:
    """Bytes the malloc heap holds from the system (glibc `mallinfo2().arena`: in use plus kept
    free, mmapped blocks excluded); None where the C library cannot say."""
    mallinfo2 = getattr(_libc(), "mallinfo2", None)
    if mallinfo2 is None:
        return None
    mallinfo2.restype = _MallInfo2
    return int(mallinfo2().arena)
