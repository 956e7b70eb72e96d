"""Where the work runs: in this process (``local``) or on a Dask cluster (``dask``).

An :class:`Executor` maps a function over chunks of work, with some large arguments
(the price data) shared by every task. :class:`LocalExecutor` loops in-process;
:class:`DaskExecutor` sends the shared data to the workers once (``scatter``, broadcast)
and runs one task per chunk on a ``dask.distributed`` cluster: an embedded
``LocalCluster`` of worker processes, or any existing scheduler
(``tcp://host:8786``: ``dask scheduler``/``dask worker``, dask-kubernetes,
dask-jobqueue...). Results come back in chunk order, so both give the same numbers.

Dask is optional: ``pip install backtest[dask]``.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, get_args

from backtest.errors import BacktestError, ConfigError

__all__ = [
    "DEFAULT_BLOCK_SIZE",
    "DEFAULT_CHUNK_SIZE",
    "DEFAULT_ENGINE",
    "ENGINES",
    "DaskExecutor",
    "EngineName",
    "Executor",
    "LocalExecutor",
    "check_scheduler",
    "executor",
]

#: Where a run executes: in this process, or on a Dask cluster.
EngineName = Literal["local", "dask"]
ENGINES: tuple[str, ...] = get_args(EngineName)
DEFAULT_ENGINE: EngineName = "local"
#: Parameter combinations per sweep task, unless told otherwise.
DEFAULT_CHUNK_SIZE = 2000
#: Series per event-study task, unless told otherwise.
DEFAULT_BLOCK_SIZE = 200

Progress = Callable[[int, int], None]


class Executor(Protocol):
    """Runs ``fn(chunk, *shared)`` for every chunk and returns the results in order."""

    def map(
        self,
        fn: Callable[..., Any],
        chunks: Sequence[Any],
        shared: Sequence[Any] = (),
        progress: Progress | None = None,
    ) -> list[Any]:
        """Apply `fn` to each chunk (with the `shared` arguments) and gather in order."""
        ...

    def describe(self) -> dict[str, Any]:
        """JSON-ready description for the run's provenance."""
        ...


class LocalExecutor:
    """Run every chunk in this process, one after the other."""

    def map(
        self,
        fn: Callable[..., Any],
        chunks: Sequence[Any],
        shared: Sequence[Any] = (),
        progress: Progress | None = None,
    ) -> list[Any]:
        """Apply `fn` to each chunk in order."""
        out = []
        for i, chunk in enumerate(chunks):
            out.append(fn(chunk, *shared))
            if progress:
                progress(i + 1, len(chunks))
        return out

    def describe(self) -> dict[str, Any]:
        """``{"engine": "local"}``."""
        return {"engine": "local"}


@dataclass
class DaskExecutor:
    """Run chunks as tasks on a Dask cluster.

    Parameters
    ----------
    client : distributed.Client
        A connected client.
    workers : int
        Workers of an embedded cluster (for the record).
    scheduler : str, optional
        Address of an external scheduler (for the record).
    """

    client: Any
    workers: int | None = None
    scheduler: str | None = None

    def map(
        self,
        fn: Callable[..., Any],
        chunks: Sequence[Any],
        shared: Sequence[Any] = (),
        progress: Progress | None = None,
    ) -> list[Any]:
        """Scatter `shared` once, submit one task per chunk, gather in chunk order.

        Tasks of a worker that dies are re-run on the others by the scheduler; a task
        that raises re-raises its original exception here.
        """
        from distributed import as_completed

        handles = [self.client.scatter(obj, broadcast=True) for obj in shared]
        futures = [
            self.client.submit(fn, chunk, *handles, pure=False, key=f"{_name(fn)}-{i}")
            for i, chunk in enumerate(chunks)
        ]
        for done, future in enumerate(as_completed(futures), start=1):
            if future.status == "error":
                future.result()  # re-raises the task's exception with its traceback
            if progress:
                progress(done, len(futures))
        return self.client.gather(futures)

    def describe(self) -> dict[str, Any]:
        """Engine, scheduler address, workers and dashboard."""
        info = self.client.scheduler_info()
        return {
            "engine": "dask",
            "scheduler": self.scheduler or "LocalCluster",
            "workers": len(info.get("workers", {})),
            "dashboard": getattr(self.client, "dashboard_link", None),
        }


#: A scheduler address: protocol://host:port (host a name, IPv4 or [IPv6]).
_ADDRESS = re.compile(
    r"^(?:tcp|tls|ucx|ws|wss)://(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(?P<port>\d{1,5})$"
)


def check_scheduler(address: str, option: str = "execution.scheduler") -> str:
    """Check the form of a Dask scheduler address, ``tcp://host:port``; return it.

    Parameters
    ----------
    address : str
        E.g. ``tcp://10.0.0.5:8786`` (also ``tls://``, ``ucx://``, ``ws://``, ``wss://``).
    option : str
        The option it came from, for the message (``--scheduler``).

    Raises
    ------
    backtest.errors.ConfigError
        Not of that form, or the port is not 1-65535.

    Examples
    --------
    >>> check_scheduler("tcp://127.0.0.1:8786")
    'tcp://127.0.0.1:8786'
    """
    match = _ADDRESS.match(address.strip()) if isinstance(address, str) else None
    if match is None or not 0 < int(match["port"]) < 65536:
        raise ConfigError(
            f"{option} must be a scheduler address of the form tcp://host:port, "
            f"e.g. tcp://127.0.0.1:8786; got {address!r}"
        )
    return address.strip()


def _ignore_interrupt() -> None:
    """In a worker process of the embedded cluster: leave SIGINT to the main process.

    A terminal's Ctrl-C reaches every process of the group; the workers would each
    print a KeyboardInterrupt traceback while the main process shuts them down anyway.
    """
    import signal
    import threading

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def _one_kernel_thread() -> None:
    """On a Dask worker: the simulation kernel uses one thread per task."""
    from backtest.engine.book import kernel_threads

    kernel_threads(1)


def _name(fn: Callable[..., Any]) -> str:
    return getattr(fn, "__name__", "task")


@contextlib.contextmanager
def executor(
    engine: str = DEFAULT_ENGINE,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    memory_limit: str | None = None,
    connect_timeout: float = 5.0,
    warmup: Callable[[], Any] | None = None,
) -> Iterator[Executor]:
    """Open the executor of an ``execution`` setting for the duration of a run.

    Parameters
    ----------
    engine : {"local", "dask"}
        Where to run.
    scheduler : str, optional
        Address of an existing Dask scheduler; ``None`` starts a ``LocalCluster``.
    workers : int, optional
        Worker processes of the embedded cluster (default: 2).
    memory_limit : str, optional
        Memory limit per worker of the embedded cluster (e.g. ``"4GiB"``).
    connect_timeout : float
        Seconds to wait for an external scheduler.
    warmup : callable, optional
        Run once on every worker before the work (e.g. to compile numba code once
        per worker rather than once per task).

    Raises
    ------
    backtest.errors.ConfigError
        Unknown engine, Dask not installed, or the scheduler cannot be reached.
    """
    if engine == "local":
        yield LocalExecutor()
        return
    if engine != "dask":
        allowed = " or ".join(repr(e) for e in ENGINES)
        raise ConfigError(f"execution.engine must be {allowed}, got {engine!r}")
    if scheduler:
        scheduler = check_scheduler(scheduler)
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise ConfigError(
            "execution.engine 'dask' needs dask.distributed: pip install 'backtest[dask]'"
        ) from exc
    cluster = None
    try:
        if scheduler:
            try:
                client = Client(scheduler, timeout=connect_timeout)
            except (OSError, TimeoutError, ValueError) as exc:
                raise ConfigError(
                    f"execution.scheduler: cannot reach the Dask scheduler at {scheduler} "
                    f"within {connect_timeout:g} s ({type(exc).__name__}: {exc})"
                ) from None
        else:
            cluster = LocalCluster(
                n_workers=workers or 2,
                threads_per_worker=1,
                processes=True,
                memory_limit=memory_limit or "auto",
                dashboard_address=":0",
            )
            client = Client(cluster)
    except BacktestError:
        raise
    try:
        if cluster is not None:  # Ctrl-C is the main process's: it closes the cluster
            client.run(_ignore_interrupt)
        client.run(_one_kernel_thread)  # the cluster parallelises over chunks
        if warmup is not None:
            client.run(warmup)
        yield DaskExecutor(client, workers=workers, scheduler=scheduler)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
