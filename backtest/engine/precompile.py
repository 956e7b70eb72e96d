"""Compile the numba kernels in a child process while the run does its other work.

A fresh installation has an empty numba cache, so the first run would compile the
simulation kernel (several seconds of one core) at its first backtest, after loading
the data and running the event study. ``backtest run`` instead calls :func:`start`
first thing (the command line imports no pandas before it, and reads whether the cache
is cold from numba's index file without importing numba): a child process runs
:func:`backtest.engine.fastsim.compile_one_leg`, which imports only numpy and numba and
compiles the simulation loop (its specialisation for small calls, which a first run
makes) into the disk cache on the second core, then exits at once; meanwhile this
process compiles the kernel's later parts (:func:`share`), imports, loads data and runs
the event study.
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
import hashlib
import os
import subprocess
import sys
from typing import Any

__all__ = ["cache_is_warm", "share", "start", "wait", "wants_kernels"]

#: The child's program: compile the simulation kernel, the largest, into the disk cache
#: (numpy and numba only: no pandas to import first).
PROGRAM = (
    "from backtest.engine.fastsim import compile_one_leg; compile_one_leg(); "
    "import os; os._exit(0)"  # the cache is written: skip the teardown (~0.7 s)
)
_CHILDREN: list[subprocess.Popen[bytes]] = []
#: The kernel whose cache entry tells a warm cache from a cold one.
KERNEL = "one_leg_columns"


def cache_is_warm() -> bool:
    """Whether the simulation kernel's disk cache already has an entry.

    Reads the index file numba keeps beside (or, with ``NUMBA_CACHE_DIR``, under)
    the cache; any doubt counts as cold.
    """
    try:
        from backtest.engine import fastsim

        kernel: Any = getattr(fastsim, KERNEL)
        path = kernel._cache._cache_file._index_path
    except Exception:  # numba's cache layout is internal: when in doubt, compile ahead
        return False
    return os.path.exists(path)


def _index_path() -> str | None:
    """The path :func:`cache_is_warm` reads, found without importing numba (most of a
    second, which would delay the child): numba's rules for a function's cache index
    (``numba.core.caching``: ``NUMBA_CACHE_DIR``, else ``__pycache__`` beside the
    source; file ``<module>.<function>-<first line>.py<version><abiflags>.nbi``).
    None where those rules may not apply (a numba config file, other locators, a
    ``__pycache__`` that cannot be written): the caller then counts the cache as cold.
    """
    if os.environ.get("NUMBA_CACHE_LOCATOR_CLASSES") or os.path.exists(".numba_config.yaml"):
        return None
    source = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fastsim.py")
    try:
        with open(source, encoding="utf-8") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return None
    at = next((i for i, line in enumerate(lines) if line.startswith(f"def {KERNEL}(")), None)
    if at is None:
        return None
    while at > 0 and lines[at - 1].startswith("@"):  # a decorated function's first line
        at -= 1
    name = (
        f"fastsim.{KERNEL}-{at + 1}.py{sys.version_info[0]}{sys.version_info[1]}"
        f"{getattr(sys, 'abiflags', '')}.nbi"
    )
    folder = os.path.dirname(source)
    if os.environ.get("NUMBA_CACHE_DIR"):
        digest = hashlib.sha1(folder.encode()).hexdigest()
        where = os.path.join(os.environ["NUMBA_CACHE_DIR"], f"{os.path.basename(folder)}_{digest}")
        return os.path.join(where, name)
    pycache = os.path.join(folder, "__pycache__")
    writable = os.access(pycache, os.W_OK) if os.path.isdir(pycache) else os.access(folder, os.W_OK)
    return os.path.join(pycache, name) if writable else None


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
    if _CHILDREN or os.environ.get("BACKTEST_PRECOMPILE", "1") == "0":
        return False
    index = _index_path()  # not cache_is_warm(): the child starts before numba's import
    if index is not None and os.path.exists(index):
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
    compile_later_parts`), so the two cores split the compile. No-op without a child,
    or when the cache turns out to be warm.
    """
    if _CHILDREN and not cache_is_warm():  # warm after all: the child only loads it
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
