"""Reference results.json of every shipped config, to hold refactors to identical numbers.

``python -m tests.reference.results_json`` (from the repository root, offline, on the
bundled snapshot) runs each config in ``configs/`` and writes its results.json, with the
fields that differ between runs and machines taken out (:func:`normalise`), to
``tests/reference/results/<config>.json.gz`` (gzip without a timestamp, so the bytes
are reproducible). ``test_every_config_runs_end_to_end`` in
``tests/pipeline/test_pipeline.py`` runs the configs again and requires the same files.

These files are not an independent reference for the numbers (they come from this code):
they pin the numbers so that a change meant to change none, such as a refactor, can be
seen to change none. Regenerate them only in a commit that says which numbers changed
and why.
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
CONFIGS = sorted((REPO / "configs").glob("*.yaml"))
RESULTS = Path(__file__).resolve().parent / "results"
#: ``run`` fields that depend on the clock, the machine or the checkout.
VOLATILE_RUN = ("created_at", "run_seconds", "config_file", "python", "backtest_version")


def normalise(results: dict[str, Any], out: Path) -> dict[str, Any]:
    """`results` with run-specific fields removed and paths made relative."""
    text = json.dumps(results)
    text = text.replace(json.dumps(str(out))[1:-1], "<out>")
    text = text.replace(json.dumps(str(REPO))[1:-1], "<repo>")
    clean = json.loads(text)
    for key in VOLATILE_RUN:
        clean["run"].pop(key, None)
    return clean


def run_config(path: Path, out: Path) -> dict[str, Any]:
    """Run config `path` offline into `out`; return its normalised results.json."""
    from backtest.config import load_config
    from backtest.pipeline import run, write_run

    cfg = load_config(path, {"data.offline": True, "output.dir": str(out)})
    write_run(run(cfg, config_path=path), out)
    return normalise(json.loads((out / "results.json").read_text(encoding="utf-8")), out)


def dump(results: dict[str, Any]) -> bytes:
    """The stored form: sorted keys, one-space indent, gzip with mtime 0."""
    text = json.dumps(results, indent=1, sort_keys=True, allow_nan=False) + "\n"
    return gzip.compress(text.encode("utf-8"), mtime=0)


def load(name: str) -> dict[str, Any]:
    """The stored reference of config `name` (its file stem)."""
    return json.loads(gzip.decompress((RESULTS / f"{name}.json.gz").read_bytes()))


def differences(got: Any, want: Any, at: str = "", limit: int = 10) -> list[str]:
    """Paths where `got` and `want` differ (at most `limit`), for a readable failure."""
    out: list[str] = []
    if isinstance(want, dict) and isinstance(got, dict):
        for key in sorted(set(want) | set(got)):
            if key not in got or key not in want:
                out.append(f"{at}.{key}: {'missing' if key not in got else 'unexpected'}")
            else:
                out += differences(got[key], want[key], f"{at}.{key}", limit - len(out))
            if len(out) >= limit:
                break
    elif isinstance(want, list) and isinstance(got, list) and len(want) == len(got):
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            out += differences(g, w, f"{at}[{i}]", limit - len(out))
            if len(out) >= limit:
                break
    elif got != want or type(got) is not type(want):
        out.append(f"{at}: got {got!r:.80}, reference {want!r:.80}")
    return out[:limit]


def main() -> int:
    import tempfile

    RESULTS.mkdir(exist_ok=True)
    for path in CONFIGS:
        with tempfile.TemporaryDirectory() as tmp:
            results = run_config(path, Path(tmp) / "run")
        target = RESULTS / f"{path.stem}.json.gz"
        target.write_bytes(dump(results))
        print(f"{path.stem}: {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
