"""Read a run directory's ``results.json`` and check it against its JSON schema.

``backtest report RUN_DIR`` rebuilds the reports from disk, where a file may be
truncated, edited by hand or written by another version. :func:`load_results` refuses
such a file with its path and the field at fault instead of a traceback or, worse, a
report built from half the numbers.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from backtest.errors import DataValidationError

__all__ = ["SCHEMA_FILE", "load_results", "validate_results"]

#: The JSON schema of ``results.json`` (its ``$id`` is the schema id a run records).
SCHEMA_FILE = Path(__file__).with_name("results.schema.json")
_MAX = 160  # characters of a value quoted in a message


@cache
def _schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return schema


def _field(path: Any) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}" if out else str(part)
    return out or "(top level)"


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _short(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= _MAX else text[: _MAX - 3] + "..."


def validate_results(results: Any, where: str = "results.json") -> dict[str, Any]:
    """Check `results` (parsed ``results.json``) against the schema; return it.

    Parameters
    ----------
    results : object
        The parsed JSON.
    where : str
        The file, for messages.

    Returns
    -------
    dict
        `results`.

    Raises
    ------
    backtest.errors.DataValidationError
        Not an object, another schema id, or a field missing or of the wrong type; the
        message names the file and the field (``event_study.windows[0].window``).
    """
    import jsonschema

    schema = _schema()
    expected = schema["$id"]
    if not isinstance(results, dict):
        raise DataValidationError(
            f"{where}: must be a JSON object of a backtest run, got {_json_type(results)}"
        )
    got = results.get("schema")
    if got != expected:
        if isinstance(got, str) and got.startswith("backtest.results/"):
            raise DataValidationError(
                f"{where}: schema {got!r} is not the one this backtest reads ({expected!r}); "
                "re-run the config with this version, or report it with the version that "
                "wrote it"
            )
        raise DataValidationError(
            f"{where}: not a backtest results file (field schema must be {expected!r}, "
            f"got {_short(got)})"
        )
    validator = jsonschema.Draft202012Validator(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(results))
    if error is not None:
        field = _field(error.absolute_path)
        if error.validator == "type":
            what = f"must be {_short(error.validator_value)}, got {_json_type(error.instance)}"
        elif error.validator in ("required", "additionalProperties"):
            what = error.message
        else:
            rule = f"{error.validator} {_short(error.validator_value)}"
            what = f"{rule} fails for {_short(error.instance)}"
        raise DataValidationError(f"{where}: {field}: {what}")
    if not results["event_study"].get("windows"):
        raise DataValidationError(f"{where}: event_study.windows: must hold at least one window")
    return results


def load_results(run_dir: Path) -> dict[str, Any]:
    """Read and check ``RUN_DIR/results.json``.

    Raises
    ------
    backtest.errors.DataValidationError
        `run_dir` is not a directory, the file is missing, unreadable, not JSON (for
        example truncated), or does not match the schema.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        state = "is not a directory" if run_dir.exists() else "does not exist"
        raise DataValidationError(f"{run_dir}: {state}; give a run directory of `backtest run`")
    path = run_dir / "results.json"
    if not path.is_file():
        raise DataValidationError(f"{run_dir}: no results.json here; is it a run directory?")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataValidationError(f"{path}: cannot be read ({exc})") from None
    try:
        results = json.loads(text)
    except ValueError as exc:
        raise DataValidationError(
            f"{path}: not valid JSON ({exc}); the file is damaged or truncated, re-run the config"
        ) from None
    return validate_results(results, str(path))
