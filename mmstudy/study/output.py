"""A results folder is written by one study and one process at a time.

`check_output` refuses, before anything is written, a path that is a file, a folder holding
another study's results, and a non-empty folder that is not a results folder at all (a user's
files would be overwritten). `locked` holds an exclusive OS lock on `<folder>/.lock` for the whole
run, so a second process started on the same folder stops at once, naming the holder's pid,
instead of computing every cell a second time. The lock file stays (removing it would let two
processes lock two different files); the lock itself ends with the process that held it, however
it ends.
"""
from __future__ import annotations

import json
import os
import re
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Mapping

from ..errors import ConfigError

try:  # POSIX; elsewhere runs are not locked
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

LOCK = ".lock"
STUDY_FILE = "study.json"
# what an unfinished study leaves before its study.json exists (killed during its first cells)
UNFINISHED = {"cells", ".cache", LOCK}
# everything mmstudy writes into a results folder
WRITTEN = UNFINISHED | {STUDY_FILE, "report.pdf", "tables", "figures", "features.json"}
TEMPORARY = re.compile(r"\.(.+)\.[^.]+\.tmp")  # hashing.atomic_path's name for a file being written


def identity(meta: Mapping | None) -> tuple[str, str]:
    """(kind, study name) of a study's metadata (as study.json records it)."""
    meta = meta or {}
    return str(meta.get("kind") or ""), str((meta.get("spec") or {}).get("name") or "")


def _describe(kind: str, name: str) -> str:
    what = f"study {name!r}" if name else "an unnamed study"
    return f"{what} (kind {kind!r})" if kind else what


def _is_ours(entry: str) -> bool:
    """An entry mmstudy writes, or the temporary file of an interrupted atomic write of one."""
    temporary = TEMPORARY.fullmatch(entry)
    return entry in UNFINISHED or (temporary is not None and temporary.group(1) in WRITTEN)


def check_output(folder: str | Path, meta: Mapping | None) -> None:
    """Refuse `folder` as the results folder of the study `meta` describes unless it is new,
    empty, or that study's own (possibly unfinished) results folder; nothing is written."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"output {folder} is a file; give a folder: a new or empty one, or the study's own "
                          "results folder to resume it")
    if not folder.is_dir():
        return
    study = folder / STUDY_FILE
    if study.is_file():
        try:
            recorded = identity(json.loads(study.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError, ValueError, AttributeError) as exc:
            raise ConfigError(f"output folder {folder}: its {STUDY_FILE} is unreadable ({type(exc).__name__}: {exc}); "
                              "choose another --output") from None
        if recorded != identity(meta):
            raise ConfigError(f"output folder {folder} holds the results of {_describe(*recorded)}, not of "
                              f"{_describe(*identity(meta))}; a study resumes only into its own folder: choose "
                              "another --output")
        return
    foreign = sorted(entry for entry in os.listdir(folder) if not _is_ours(entry))
    if foreign:
        shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
        raise ConfigError(f"output folder {folder} is not empty and is not a results folder (it holds {shown}); "
                          "choose a new or empty folder, so that no file of yours is overwritten")


@contextmanager
def locked(folder: str | Path) -> Iterator[None]:
    """Hold `<folder>/.lock` exclusively for the block (the folder is created); a folder another
    process holds raises ConfigError naming that process."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if fcntl is None:  # pragma: no cover - Windows
        yield
        return
    fd = os.open(folder / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            raise ConfigError(f"output folder {folder} is in use by another mmstudy process (pid {holder}); wait "
                              "for it to finish, or choose another --output") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock
