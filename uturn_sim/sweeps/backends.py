"""Where the chunks of a sweep run: in process, on local processes, or on Dask.

Every backend yields each chunk's rows as it finishes.  Workers die with their
parent (Linux: ``PR_SET_PDEATHSIG``; elsewhere a watch thread), ignore Ctrl-C (the
parent handles it and stops them), and a Dask scheduler address is checked before
any connection is tried, with a short connect timeout.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from uturn_sim.errors import ScenarioError

__all__ = ["BACKENDS", "DEFAULT_CONNECT_TIMEOUT_S", "check_address", "execute"]

BACKENDS = ("processes", "serial", "dask")
DEFAULT_CONNECT_TIMEOUT_S = 10.0
_ADDRESS = re.compile(
    r"^(?:(?P<scheme>[a-z]+)://)?(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)"
    r":(?P<port>[0-9]{1,5})$"
)

Worker = Callable[..., list[dict[str, Any]]]


def check_address(address: str) -> str:
    """Validate a Dask scheduler address; return it with a ``tcp://`` prefix if it had none.

    Parameters
    ----------
    address
        ``tcp://host:port`` or ``tls://host:port`` (``host:port`` means tcp), port 1-65535.

    Raises
    ------
    ScenarioError
        Naming the address and the expected form.
    """
    m = _ADDRESS.match(address.strip()) if isinstance(address, str) else None
    scheme = (m.group("scheme") or "tcp") if m else ""
    if m is None or scheme not in ("tcp", "tls") or not 1 <= int(m.group("port")) <= 65535:
        shown = address if len(str(address)) <= 80 else str(address)[:77] + "..."
        raise ScenarioError(
            [
                f"scheduler: {shown!r} is not a Dask scheduler address; expected "
                "tcp://host:port or tls://host:port with a port 1-65535"
            ],
            what="sweep options",
        )
    return f"{scheme}://{m.group('host')}:{m.group('port')}"


def _die_with_parent(parent: int) -> None:
    """In a worker process: exit when ``parent`` dies, and leave Ctrl-C to the parent."""
    with contextlib.suppress(ValueError):  # not the main thread (cannot happen in a pool)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the hook was set
        os._exit(1)

    def watch() -> None:  # portable fallback (and a second line of defence)
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="uturn-sim-parent-watch", daemon=True).start()


def _probe(address: str, timeout_s: float) -> None:
    """Connect and handshake once with a deadline (Dask's own handshake read has none)."""
    import asyncio

    from distributed.comm import connect

    async def once() -> None:
        comm = await asyncio.wait_for(connect(address, timeout=timeout_s), timeout_s)
        await comm.close()

    try:
        asyncio.run(once())
    except TimeoutError:
        raise TimeoutError(f"no handshake within {timeout_s:g} s") from None


def _serial(worker: Worker, chunks: list, args: tuple) -> Iterator[list[dict]]:
    for chunk in chunks:
        yield worker(chunk, *args)


def _processes(
    worker: Worker, chunks: list, args: tuple, workers: int | None
) -> Iterator[list[dict]]:
    from concurrent.futures import ProcessPoolExecutor, as_completed

    # the platform's default start method; no global multiprocessing state is touched
    pool = ProcessPoolExecutor(
        max_workers=workers, initializer=_die_with_parent, initargs=(os.getpid(),)
    )
    try:
        futures = [pool.submit(worker, chunk, *args) for chunk in chunks]
        for fut in as_completed(futures):
            yield fut.result()
    except BaseException:  # Ctrl-C, a failed chunk, or the consumer stopped: stop at once
        procs = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for p in procs:
            with contextlib.suppress(OSError, ValueError):
                p.kill()
        for p in procs:
            with contextlib.suppress(OSError, ValueError, AssertionError):
                p.join(timeout=5)
        raise
    pool.shutdown(wait=True)


def _dask(
    worker: Worker,
    chunks: list,
    args: tuple,
    workers: int | None,
    address: str | None,
    connect_timeout_s: float,
) -> Iterator[list[dict]]:
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError:  # pragma: no cover - depends on the extra
        raise ScenarioError(
            ["backend: dask needs the extra: pip install 'uturn_sim[dask]'"], what="sweep options"
        ) from None
    cluster = None
    if address is None:
        cluster = LocalCluster(
            n_workers=workers or os.cpu_count(),
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        )
        address = cluster.scheduler_address
    try:
        if cluster is None:
            _probe(address, connect_timeout_s)
        client = Client(address, timeout=connect_timeout_s)
    except Exception as exc:  # refused, timed out, or not a scheduler answering (any error)
        if cluster is not None:
            cluster.close(timeout=5)
        raise ConnectionError(
            f"could not connect to a Dask scheduler at {address} (timeout {connect_timeout_s:g} s; "
            f"{type(exc).__name__}: {str(exc)[:200]}); check the address and that a scheduler runs "
            "there, or raise --connect-timeout"
        ) from None
    local_pids: list[int] = []
    futures: list = []
    try:
        if cluster is not None:  # our own workers: ignore Ctrl-C, die with us
            local_pids = list(client.run(os.getpid).values())
            client.run(_die_with_parent, os.getpid())
        shared = client.scatter(args[0], broadcast=True)
        futures = [client.submit(worker, chunk, shared, *args[1:], pure=False) for chunk in chunks]
        for fut in as_completed(futures):
            yield fut.result()
    except BaseException:
        for pid in local_pids:  # stop our own workers now, not after their chunk
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(Exception):
            client.cancel(futures)
        with contextlib.suppress(Exception):
            client.close(timeout=2)
        if cluster is not None:
            with contextlib.suppress(Exception):
                cluster.close(timeout=2)
        raise
    client.close()
    if cluster is not None:
        cluster.close()


def execute(
    backend: str,
    worker: Worker,
    chunks: list,
    args: tuple,
    *,
    workers: int | None = None,
    address: str | None = None,
    connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S,
) -> Iterator[list[dict[str, Any]]]:
    """Run ``worker(chunk, *args)`` for every chunk; yield each chunk's rows as it finishes.

    Parameters
    ----------
    backend
        ``"serial"``, ``"processes"`` or ``"dask"``.
    worker
        The top-level, picklable chunk function (:func:`uturn_sim.sweeps.run.run_chunk`).
    chunks
        Lists of (cell, replication) tasks.
    args
        Further arguments of ``worker`` (the first, scenarios, is scattered on Dask).
    workers
        Worker processes (default: all cores).
    address
        Dask scheduler address (checked by :func:`check_address`).
    connect_timeout_s
        Time allowed to connect to the Dask scheduler, s.
    """
    if backend == "serial":
        return _serial(worker, chunks, args)
    if backend == "processes":
        return _processes(worker, chunks, args, workers)
    if backend == "dask":
        return _dask(worker, chunks, args, workers, address, connect_timeout_s)
    raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
