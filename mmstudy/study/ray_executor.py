"""Run a study's cells as Ray tasks, on a local Ray instance or an existing cluster.

Ray is an optional extra (`pip install "mmstudy[ray]"`). Each job (a cell, or the cells of a seed
batch: `study.seed_batch`) is one task that declares what it needs (`cpus` CPUs, and one GPU when
the study runs on CUDA), so Ray places GPU cells on GPU nodes and never runs more cells on a node
than it has cores. The task runs its cells and writes their results itself through ResultStore: on a cluster the results folder (and its `.cache`) must be
on a filesystem every node mounts at the same path, and mmstudy must be installed on every node.
Without `address`, a local Ray instance sized to this machine is started and shut down at the
end; an already initialised Ray session (or a cluster at `address`) is used and left running.
"""
from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import replace
from typing import Callable, Iterator

from ..errors import ConfigError
from .cell import Cell
from .seed_batch import seed_batches
from .worker import WorkerSettings, cpu_cores, execute_cells

INSTALL_HINT = 'the ray executor needs Ray; install it with: pip install "mmstudy[ray]"'


def import_ray():
    """The `ray` module, or a ConfigError telling how to install it."""
    try:
        import ray
    except ImportError as exc:
        raise ConfigError(INSTALL_HINT) from exc
    return ray


def cell_resources(device: str, cpus: int = 1) -> dict:
    """What one cell's task asks Ray for."""
    return {"num_cpus": cpus, "num_gpus": 1 if device.startswith("cuda") else 0}


def cluster_device(ray, device: str) -> str:
    """Resolve `device` against the cluster's resources (the driver may have no GPU itself).

    A task sees only the GPU Ray assigned to it (CUDA_VISIBLE_DEVICES), so `cuda:<i>` becomes
    `cuda`: Ray, not the index, picks the GPU of each cell.
    """
    gpus = ray.cluster_resources().get("GPU", 0)
    if device == "auto":
        return "cuda" if gpus >= 1 else "cpu"
    if device.startswith("cuda"):
        if gpus < 1:
            raise ConfigError(f"--device {device}: the Ray cluster has no GPU (resources: "
                              f"{ray.cluster_resources()}); use --device cpu or auto")
        return "cuda"
    if device != "cpu":
        raise ConfigError(f"--device {device!r}: expected cpu, cuda, cuda:<index> or auto")
    return device


@contextmanager
def ray_session(address: str | None = None, num_cpus: int | None = None) -> Iterator:
    """Connect to Ray: reuse a running session, join `address`, or start a local instance
    (shut down again on exit; a joined cluster keeps running)."""
    ray = import_ray()
    if ray.is_initialized():
        yield ray
        return
    if address:
        ray.init(address=address, log_to_driver=False, logging_level=logging.ERROR)
    else:
        ray.init(num_cpus=num_cpus or cpu_cores(), include_dashboard=False, log_to_driver=False,
                 logging_level=logging.ERROR)
    try:
        yield ray
    finally:
        ray.shutdown()


def run_with_ray(cells: list[Cell], settings: WorkerSettings, address: str | None,
                 record: Callable[..., None]) -> str:
    """Run `cells` as Ray tasks, one per job (a cell, or the cells of one configuration's seeds
    that ask for seed batching), each asking for `settings.threads` CPUs; calls
    `record(fingerprint, error, seconds, traceback)` as each cell finishes; returns the device the
    cells ran on."""
    with ray_session(address) as ray:
        settings = replace(settings, device=cluster_device(ray, settings.device))
        task = ray.remote(execute_cells).options(**cell_resources(settings.device, settings.threads),
                                                 max_retries=1)
        pending = {task.remote([c.to_dict() for c in job], settings): job for job in seed_batches(cells)}
        try:
            _collect(ray, pending, record)
        except BaseException:  # Ctrl-C: do not leave the queued cells running on a cluster
            for ref in pending:
                ray.cancel(ref)
            raise
    return settings.device


def _collect(ray, pending: dict, record: Callable[..., None]) -> None:
    """Record tasks as they finish (a crashed worker fails its cells with Ray's reason)."""
    while pending:
        refs = list(pending)
        first, _ = ray.wait(refs, num_returns=1)
        ready = set(first) | set(ray.wait(refs, num_returns=len(refs), timeout=0)[0])  # all done by now
        for ref in ready:
            job = pending.pop(ref)
            try:
                results = ray.get(ref)
            except ray.exceptions.RayError as exc:
                results = [(c.fingerprint, f"{type(exc).__name__}: {exc}") for c in job]
            for result in results:
                record(*result)
