"""Resident-memory probes shared by the benchmarks (Linux ``/proc``; best effort elsewhere).

Module-level functions so that ``bench_dask.py`` can run them in Dask worker processes
(``client.run``); the workers import this module from the benchmarks folder, which they
inherit on ``sys.path`` from the process that started them.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import resource
import sys


def rss_mib() -> float:
    """Current resident set size of this process in MiB."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_mib() -> float:
    """Peak resident memory of this process in MiB: ``VmHWM`` where Linux has it.

    Not ``ru_maxrss``: Linux carries a parent's high-water mark into a child across fork
    and exec (a Dask worker started after a 3 GB local run reports >= 3 GB) and keeps
    exited threads' marks, and ``clear_refs`` resets neither; ``VmHWM`` is the process's
    own mark, which it does reset.
    """
    with contextlib.suppress(OSError), open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, B on macOS
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024


def release_memory() -> None:
    """Collect garbage and hand freed heap pages back to the OS (glibc), so that the RSS
    at the start of a measured call is not inflated by the previous call's leftovers."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to trim
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def reset_peak() -> bool:
    """Release freed memory, then reset the kernel's high-water mark of resident memory
    (Linux >= 4.0); False where it cannot be reset."""
    release_memory()
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False
