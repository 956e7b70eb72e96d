"""The configuration reference and the config's JSON Schema: generated, fresh, complete.

``docs/configuration.md`` and ``docs/config.schema.json`` are written by
``python -m backtest.docs_gen``; these tests regenerate them in memory and compare them
with the committed files, check that every key of the config models is listed (walking
the pydantic models, not the schema the generator walks), and validate the configs in
``configs/`` and a few broken ones with ``jsonschema`` (an independent validator).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from pydantic import BaseModel

from backtest.cli import main
from backtest.config import RunConfig, load_config, parse_docstring
from backtest.docs_gen import generated_files
from backtest.docs_gen import main as docs_main

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
CONFIGS = sorted((REPO / "configs").glob("*.yaml"))


@pytest.mark.parametrize("name", ["configuration.md", "config.schema.json"])
def test_generated_docs_are_fresh(name):
    committed = (DOCS / name).read_text(encoding="utf-8")
    assert committed == generated_files()[name], (
        f"docs/{name} is stale: run `python -m backtest.docs_gen` and commit the result"
    )


def test_check_mode_reports_stale_files(tmp_path, capsys):
    assert docs_main(["--out", str(tmp_path)]) == 0
    assert docs_main(["--check", "--out", str(tmp_path)]) == 0
    (tmp_path / "configuration.md").write_text("old", encoding="utf-8")
    assert docs_main(["--check", "--out", str(tmp_path)]) == 1
    assert "configuration.md" in capsys.readouterr().err
    assert (tmp_path / "configuration.md").read_text(encoding="utf-8") == "old"


def _annotation_models(annotation: Any) -> list[tuple[type[BaseModel], bool]]:
    """Models inside an annotation, with whether they sit in a tuple (a list in YAML)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [(annotation, False)]
    found = []
    many = getattr(annotation, "__origin__", None) is tuple
    for inner in getattr(annotation, "__args__", ()):
        found += [(m, many or in_list) for m, in_list in _annotation_models(inner)]
    return found


def _paths(model: type[BaseModel], prefix: str = "") -> list[str]:
    out = []
    for key, field in model.model_fields.items():
        path = f"{prefix}{key}"
        out.append(path)
        for sub, many in _annotation_models(field.annotation):
            out += _paths(sub, f"{path}[]." if many else f"{path}.")
    return out


def test_every_key_is_listed_with_a_meaning():
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    rows = {
        line.split("|")[1].strip().strip("`"): line.split(" | ")
        for line in text.splitlines()
        if line.startswith("| `")
    }
    paths = _paths(RunConfig)
    # hand count of the fields in backtest/config.py: 9 top level, 8 data, 7 events + 6
    # inline, 24 event_study + 4 regressions + 6 placebo, 16 strategies + 4 validation,
    # 7 execution, 2 output
    assert len(paths) == 9 + 8 + 7 + 6 + 24 + 4 + 6 + 16 + 4 + 7 + 2
    for path in [*paths, "extends"]:
        assert path in rows, f"{path} is not in docs/configuration.md"
        meaning = rows[path][-1].rstrip(" |")
        assert len(meaning) > 5, f"{path} has no meaning in docs/configuration.md"
    assert rows["event_study.min_estimation"][1] == "int (> 0)"
    assert '`"raw"`' in rows["event_study.model"][2]
    assert rows["data.series"][2] == "required"
    assert "Fewest usable estimation days." in rows["event_study.min_estimation"][3]


def test_parse_docstring_numpydoc_parameters():
    summary, params = parse_docstring(
        """Summary line
        continued.

        Parameters
        ----------
        a : int
            First
            parameter.
        b, c : {"x", "y"}, optional
            Shared text.

        Returns
        -------
        int
            Not a parameter.
        """
    )
    assert summary == "Summary line continued."
    assert params == {"a": "First parameter.", "b": "Shared text.", "c": "Shared text."}


def _isoformat_dates(node: Any) -> Any:
    """YAML dates as the strings an editor's YAML 1.2 parser sees."""
    if isinstance(node, dict):
        return {k: _isoformat_dates(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_isoformat_dates(v) for v in node]
    return node.isoformat() if isinstance(node, dt.date) else node


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads((DOCS / "config.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_bundled_configs_validate_against_the_schema(path, validator):
    raw = _isoformat_dates(yaml.safe_load(path.read_text(encoding="utf-8")))
    assert [e.message for e in validator.iter_errors(raw)] == []
    # the merged config (extends resolved, defaults filled) is a complete one
    full = load_config(path).model_dump(mode="json")
    assert "extends" not in full
    assert [e.message for e in validator.iter_errors(full)] == []


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"name": "x", "data": {"series": ["SPX"]}}, "'events' is a required property"),
        ({"extends": "b.yaml", "event_study": {"model": "bogus"}}, "'bogus' is not one of"),
        ({"extends": "b.yaml", "event_study": {"min_estimatoin": 3}}, "'min_estimatoin' was"),
        ({"extends": "b.yaml", "strategies": [{"fees_bps": -1}]}, "-1 is not valid under any"),
        ({"extends": "b.yaml", "data": {"start": "2020-01-01"}}, None),  # partial is fine
    ],
)
def test_schema_refuses_what_load_config_refuses(raw, expected, validator):
    messages = [e.message for e in validator.iter_errors(raw)]
    if expected is None:
        assert messages == []
    else:
        assert any(expected in m for m in messages), messages


def test_cli_config_schema_prints_the_schema(capsys):
    assert main(["config", "schema"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads(generated_files()["config.schema.json"])
    props = printed["$defs"]["EventStudyConfig"]["properties"]
    assert props["min_estimation"]["description"] == "Fewest usable estimation days."
    assert set(props) == set(RunConfig.model_fields["event_study"].annotation.model_fields)  # type: ignore[union-attr]
