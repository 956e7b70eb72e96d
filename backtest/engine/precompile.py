"""Compile the numba kernels in a child process while the run does its other work.

A fresh installation has an empty numba cache, so the first run would compile the
simulation kernel (several seconds of one core) at its first backtest, after loading
the data and running the event study. ``backtest run`` instead calls :func:`start`
first thing (the command line imports no pandas before it): a child process runs
:func:`backtest.engine.fastsim.compile_one_leg`, which imports only numpy and numba and
compiles the simulation loop (its specialisation for small calls, which a first run
makes) into the disk cache on the second core, while this process compiles the
kernel's later parts (:func:`share`), imports, loads data and runs the event study.
The first kernel call (:func:`wait`) waits for the child and then loads the compiled
simulation from the cache. (A small run's statistics and PBO are computed with numpy:
:data:`backtest.kernels.STATS_NUMPY_CELLS`, :data:`backtest.metrics.PBO_NUMPY_CELLS`.)
The numbers are the same either way: the child writes the cache entries this process
would.

Nothing here can make a run fail: when the cache is already filled no child is
started; a child nobody waited for is stopped at exit; a child that fails (no
writable cache, no second process allowed) only means this process compiles as it
would have; ``BACKTEST_PRECOMPILE=0`` turns it off. numba writes its cache files
atomically, so a child interrupted with the run leaves no partial entry.
"""

from __future__ import annotations

import atexit
import os
import subprocess
import sys
from typing import Any

__all__ = ["cache_is_warm", "share", "start", "wait", "wants_kernels"]

#: The child's program: compile the simulation kernel, the largest, into the disk cache
#: (numpy and numba only: no pandas to import first).
PROGRAM = "from backtest.engine.fastsim import compile_one_leg; compile_one_leg()"
_CHILDREN: list[subprocess.Popen[bytes]] = []


def cache_is_warm() -> bool:
    """Whether the simulation kernel's disk cache already has an entry.

    Reads the index file numba keeps beside (or, with ``NUMBA_CACHE_DIR``, under)
    the cache; any doubt counts as cold.
    """
    try:
        from backtest.engine import fastsim

        kernel: Any = fastsim.one_leg_columns
        path = kernel._cache._cache_file._index_path
    except Exception:  # numba's cache layout is internal: when in doubt, compile ahead
        return False
    return os.path.exists(path)


def wants_kernels(config: str | os.PathLike[str]) -> bool:
    """Whether the run config at `config` (or a base it ``extends:``) has strategies.

    A cheap look at the YAML before the config is loaded and checked, so an
    event-study run starts no compile. Anything unreadable counts as no: the run
    reports the problem itself.
    """
    import yaml

    seen: set[str] = set()
    path = os.path.abspath(config)
    while path not in seen:
        seen.add(path)
        try:
            with open(path, encoding="utf-8") as fh:
                raw = yaml.safe_load(fh)
        except Exception:  # the run's own loader gives the clear error
            return False
        if not isinstance(raw, dict):
            return False
        if raw.get("strategies"):
            return True
        base = raw.get("extends")
        if not isinstance(base, str):
            return False
        path = os.path.abspath(os.path.join(os.path.dirname(path), base))
    return False


def start(program: str = PROGRAM) -> bool:
    """Start compiling the kernels in a child process, unless the cache is warm.

    Returns whether a child was started. Idempotent: a second call while a child
    runs does nothing. `program` is the Python code the child runs (tests replace it).
    """
    if _CHILDREN or os.environ.get("BACKTEST_PRECOMPILE", "1") == "0" or cache_is_warm():
        return False
    try:
        child = subprocess.Popen(
            [sys.executable, "-c", program],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    except OSError:  # no process to spare: this process compiles on first use
        return False
    if not _CHILDREN:
        atexit.register(_stop)
    _CHILDREN.append(child)
    return True


def share() -> None:
    """While the child started by :func:`start` compiles the simulation loop, compile
    here what the kernel calls after it (:func:`backtest.engine.fastsim.
    compile_later_parts`), so the two cores split the compile. No-op without a child.
    """
    if _CHILDREN:
        from backtest.engine.fastsim import compile_later_parts

        compile_later_parts()


def _stop() -> None:
    """At exit: stop a child nobody waited for (the run needed no kernel, or failed)."""
    while _CHILDREN:
        _CHILDREN.pop().kill()


def wait() -> None:
    """Wait for a child started by :func:`start` (no-op when none runs).

    Called before the first kernel call, so that call loads the compiled code from the
    cache instead of compiling it a second time. The child's exit status is not
    checked: if it failed, the call compiles here.
    """
    while _CHILDREN:
        child = _CHILDREN.pop()
        try:
            child.wait()
        except BaseException:  # an interrupt while waiting: do not leave the child behind
            child.kill()
            raise
