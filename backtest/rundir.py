"""The run directory on disk: which output locations a run may use, and how it is written.

A run never deletes what it did not write. Its output location must be

* absent (it is created, with any missing parents),
* an empty directory, or
* an earlier run directory of this tool: its ``results.json`` starts with the schema
  id (``{"schema": "backtest.results/...``) and it holds only the files a run writes.

Anything else (a file, a folder of the user's, a run directory the user added files
to, a symbolic link) is refused with :class:`~backtest.errors.OutputError` before any
work, and nothing is touched. :func:`check_output` also proves the location writable by
creating (and removing) a folder beside it, so an unwritable ``--out`` fails before the
computation, not after it.

The run is built in a hidden staging folder ``.NAME.<random>/`` beside the target and
renamed into place only when complete. The staging folder carries a marker
(:data:`STAGING_MARKER`: tool, pid, host, time); a folder left by a writer that was
killed (SIGKILL, power loss) is removed by the next run into the same parent when its
writer is gone: same host and the pid no longer exists, or older than
:data:`STALE_AFTER` seconds (a writer on another host, whose pid cannot be checked).
Folders without the marker are never touched.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import socket
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from backtest.errors import OutputError

__all__ = [
    "RUN_FILES",
    "STAGING_MARKER",
    "STALE_AFTER",
    "check_output",
    "clean_stale_staging",
    "is_run_dir",
    "staging",
]

#: What a run directory holds; anything else in it was put there by someone else.
RUN_FILES = frozenset(
    {"config.yaml", "results.json", "levels.parquet", "summary.md", "report.html", "tables"}
)
#: Suffixes of the files a run writes under ``tables/``.
TABLE_SUFFIXES = (".csv", ".parquet")
#: Marker file of a staging folder (JSON: tool, kind, folder, target, pid, host, created).
STAGING_MARKER = ".backtest-staging.json"
#: Seconds after which a marked staging folder is stale whoever wrote it (24 hours;
#: writing a run directory takes seconds).
STALE_AFTER = 24 * 3600.0
_HOW = "choose a new or empty directory for --out (output.dir)"
_RUN_HEAD = re.compile(rb'\A\s*\{\s*"schema"\s*:\s*"backtest\.results/')


def is_run_dir(path: Path) -> bool:
    """Whether `path` holds a ``results.json`` written by backtest (its schema id first).

    Only the first bytes are read: a large or even damaged ``results.json`` of a run
    still marks its directory as the tool's own.
    """
    try:
        with open(Path(path) / "results.json", "rb") as fh:
            head = fh.read(512)
    except OSError:
        return False
    return _RUN_HEAD.match(head) is not None


def _foreign(target: Path) -> list[str]:
    """Entries of run directory `target` that a run does not write."""
    out = []
    for entry in sorted(target.iterdir()):
        if entry.name not in RUN_FILES:
            out.append(entry.name)
        elif entry.name == "tables" and entry.is_dir() and not entry.is_symlink():
            out += [
                f"tables/{p.name}"
                for p in sorted(entry.iterdir())
                if not (p.is_file() and not p.is_symlink() and p.suffix in TABLE_SUFFIXES)
            ]
        elif entry.is_symlink() or entry.is_dir() != (entry.name == "tables"):
            out.append(entry.name)
    return out


def check_output(target: Path) -> Path:
    """Refuse an output location a run must not use, before any work is done.

    Parameters
    ----------
    target : pathlib.Path
        The run directory to write (``--out`` / ``output.dir``).

    Returns
    -------
    pathlib.Path
        `target`, unchanged.

    Raises
    ------
    backtest.errors.OutputError
        `target` is a file, a symbolic link, a non-empty directory that is not a run
        directory of backtest, a run directory holding files a run does not write, or
        it (or the folder beside it) cannot be written. The message names the path and
        the reason; nothing was touched.
    """
    target = Path(target)
    if target.is_symlink():
        raise OutputError(f"{target}: is a symbolic link; give the directory itself, or {_HOW}")
    if target.exists():
        if not target.is_dir():
            raise OutputError(f"{target}: is a file, not a directory; {_HOW}. Nothing was touched")
        try:
            empty = next(target.iterdir(), None) is None
            foreign = [] if empty or not is_run_dir(target) else _foreign(target)
        except OSError as exc:
            raise OutputError(f"{target}: cannot be read ({exc.strerror or exc}); {_HOW}") from None
        if not empty and not is_run_dir(target):
            raise OutputError(
                f"{target}: not empty and not a backtest run directory (it has no "
                f"results.json of a run); a run replaces only an earlier run directory, "
                f"so {_HOW}. Nothing was touched"
            )
        if foreign:
            shown = ", ".join(foreign[:5]) + (", ..." if len(foreign) > 5 else "")
            raise OutputError(
                f"{target}: an earlier run directory, but it also holds files backtest did "
                f"not write ({shown}); move them away or {_HOW}. Nothing was touched"
            )
    existing = target.parent
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise OutputError(f"{target}: cannot be created, {existing} is a file, not a directory")
    try:
        probe = _new_folder(existing, target, "probe")
    except OSError as exc:
        raise OutputError(
            f"{target}: cannot write in {existing} ({exc.strerror or exc}); {_HOW}"
        ) from None
    shutil.rmtree(probe, ignore_errors=True)
    return target


def _new_folder(parent: Path, target: Path, kind: str) -> Path:
    """A new hidden folder ``.NAME.<random>`` in `parent` carrying the staging marker."""
    folder = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=parent))
    try:
        _mark(folder, target, kind)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return folder


def _mark(folder: Path, target: Path, kind: str) -> None:
    info = {
        "tool": "backtest",
        "kind": kind,
        "folder": folder.name,
        "target": target.name,
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "created": time.time(),
    }
    (folder / STAGING_MARKER).write_text(json.dumps(info), encoding="utf-8")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: it exists, owned by someone else
        return True
    return True


def _stale(info: dict[str, Any]) -> bool:
    created = info.get("created")
    if isinstance(created, int | float) and time.time() - created > STALE_AFTER:
        return True
    pid = info.get("pid")
    if info.get("host") != socket.gethostname() or not isinstance(pid, int) or pid <= 0:
        return False  # another host's writer may still be working: wait for STALE_AFTER
    return pid != os.getpid() and not _alive(pid)


def clean_stale_staging(parent: Path) -> list[Path]:
    """Remove the stale staging folders of backtest in `parent`; return what was removed.

    Only hidden folders carrying :data:`STAGING_MARKER` (with their own name recorded
    in it) are considered, and only when their writer is gone (see the module notes).
    An earlier run moved aside by a writer killed between its two renames is put back
    in place when the target is missing, else removed.
    """
    removed: list[Path] = []
    try:
        entries = sorted(Path(parent).iterdir())
    except OSError:
        return removed
    for folder in entries:
        if not folder.name.startswith(".") or folder.is_symlink() or not folder.is_dir():
            continue
        try:
            info = json.loads((folder / STAGING_MARKER).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not (
            isinstance(info, dict)
            and info.get("tool") == "backtest"
            and info.get("folder") == folder.name
            and _stale(info)
        ):
            continue
        name = info.get("target")
        if info.get("kind") == "old" and isinstance(name, str) and name == Path(name).name:
            target = folder.parent / name
            if name and not os.path.lexists(target):
                try:
                    os.replace(folder, target)
                except OSError:
                    continue  # left for a later run rather than deleted
                with contextlib.suppress(OSError):
                    (target / STAGING_MARKER).unlink()
                continue
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    return removed


def _mode(target: Path) -> int:
    """Permissions of the new run directory: the replaced directory's, else the umask's."""
    with contextlib.suppress(OSError):
        return stat.S_IMODE(target.stat().st_mode)
    try:
        line = next(
            x for x in Path("/proc/self/status").read_text().splitlines() if x.startswith("Umask:")
        )
        umask = int(line.split()[1], 8)
    except (OSError, StopIteration, ValueError, IndexError):
        umask = 0o022
    return 0o777 & ~umask


@contextlib.contextmanager
def staging(target: Path) -> Iterator[Path]:
    """Yield a staging folder beside `target`; on success it replaces `target` atomically.

    The target is checked (:func:`check_output`) before the folder is created and again
    before the swap. On any exception (or Ctrl-C) the staging folder is removed and an
    earlier run at `target` is left as it was.

    Raises
    ------
    backtest.errors.OutputError
        `target` is refused (see :func:`check_output`).
    """
    target = Path(target)
    check_output(target)
    parent = target.parent
    parent.mkdir(parents=True, exist_ok=True)
    clean_stale_staging(parent)
    tmp = _new_folder(parent, target, "staging")
    try:
        yield tmp
        check_output(target)  # it may have changed while the run was written
        os.chmod(tmp, _mode(target))
        (tmp / STAGING_MARKER).unlink()
        _swap(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _swap(tmp: Path, target: Path) -> None:
    """Move `tmp` to `target`; an earlier run there is moved aside first, then removed."""
    old = None
    if os.path.lexists(target):
        old = target.with_name(f".{target.name}.old-{os.getpid()}-{secrets.token_hex(4)}")
        os.replace(target, old)
    try:
        if old is not None:
            _mark(old, target, "old")
        os.replace(tmp, target)
    except BaseException:
        if old is not None:  # put the earlier run back
            with contextlib.suppress(OSError):
                (old / STAGING_MARKER).unlink()
            os.replace(old, target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
