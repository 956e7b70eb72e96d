"""Catalog ``instrument:`` entries (issue 14): every built-in series declares one.

Reference: the expected instruments are written out here by hand from what each series
is (FRED/MoF constant-maturity yields held as semi-annual par bonds, the H.10 USD/JPY
pair, equity indices, and the untradable VIX, broad dollar index and short rates).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from backtest import data
from backtest.data.catalog import Catalog, builtin_catalog, default_instrument
from backtest.errors import DataValidationError
from backtest.instruments import Instrument

from ..conftest import REPO

EXPECTED = {
    "UST3M": Instrument("bond", currency="USD", maturity=0.25, freq=4),
    "UST2Y": Instrument("bond", currency="USD", maturity=2.0),
    "UST5Y": Instrument("bond", currency="USD", maturity=5.0),
    "UST10Y": Instrument("bond", currency="USD", maturity=10.0, freq=2),
    "UST30Y": Instrument("bond", currency="USD", maturity=30.0),
    "USDJPY": Instrument("fx", base="USD", quote="JPY"),
    "SPX": Instrument("index", currency="USD"),
    "NKY": Instrument("index", currency="JPY"),
    "TOPIX": Instrument("index", currency="JPY"),
    "USD": Instrument("untradable", currency="USD", proxy="DXY"),
    "DXY": Instrument("index", currency="USD"),
    "VIX": Instrument("untradable", currency="USD"),
    "JGB2Y": Instrument("bond", currency="JPY", maturity=2.0),
    "JGB5Y": Instrument("bond", currency="JPY", maturity=5.0),
    "JGB10Y": Instrument("bond", currency="JPY", maturity=10.0, freq=2),
    "JGB20Y": Instrument("bond", currency="JPY", maturity=20.0),
    "JGB30Y": Instrument("bond", currency="JPY", maturity=30.0),
    "FEDFUNDS_TARGET": Instrument("untradable", currency="USD", proxy="UST3M"),
    "JPY_CALL": Instrument("untradable", currency="JPY", proxy="JGB2Y"),
    "BOJ_POLICY": Instrument("untradable", currency="JPY", proxy="JGB2Y"),
}


def test_every_builtin_series_declares_its_instrument():
    cat = builtin_catalog()
    assert set(cat) == set(EXPECTED)
    for name, spec in cat.items():
        assert spec.instrument == EXPECTED[name], name
    # written in the file itself, not filled in by the default of the kind
    text = (REPO / "backtest" / "data" / "catalog.yaml").read_text()
    assert text.count("    instrument: {") == len(EXPECTED)
    # every proxy is a tradable series of the catalog
    for name, spec in cat.items():
        if spec.instrument is not None and spec.instrument.proxy is not None:
            assert cat[spec.instrument.proxy].instrument.kind != "untradable", name


def _entry(**extra: object) -> dict[str, object]:
    return {
        "series": {
            "X1": {
                "kind": "yield",
                "unit": "percent",
                "sources": [
                    {"provider": "fred", "symbol": "X", "timezone": "UTC", "obs_time": "12:00"}
                ],
                **extra,
            }
        }
    }


@pytest.mark.parametrize(
    ("instrument", "message"),
    [
        ({"kind": "bond"}, "maturity must be a number of years > 0"),
        ({"kind": "bond", "maturity": 10, "freq": 3}, "freq must be one of"),
        ({"kind": "stock"}, "kind must be one of"),
        ({"kind": "fx", "base": "USD"}, "base and quote are required"),
        ({"kind": "index", "maturity": 10}, "maturity applies only to kind 'bond'"),
        ({"kind": "bond", "maturity": 10, "coupon": 2}, "unknown field(s) ['coupon']"),
        ({"maturity": 10}, "instrument needs a kind"),
        ("bond", "instrument must be a mapping"),
    ],
)
def test_bad_instrument_names_file_series_and_field(instrument, message):
    with pytest.raises(DataValidationError) as info:
        Catalog.from_dict(_entry(instrument=instrument), where="my.yaml")
    text = str(info.value)
    assert text.startswith("my.yaml: series.X1.instrument: "), text
    assert message in text


def test_user_series_without_instrument_gets_the_safe_default():
    cat = Catalog.from_dict(_entry(), where="my.yaml")
    assert cat["X1"].instrument == Instrument("untradable")  # a yield needs its maturity
    assert default_instrument("fx") == Instrument("untradable")  # a pair its currencies
    assert default_instrument("index") == Instrument("index")
    declared = Catalog.from_dict(
        _entry(instrument={"kind": "bond", "maturity": 7, "currency": "EUR"}), where="my.yaml"
    )
    assert declared["X1"].instrument == Instrument("bond", currency="EUR", maturity=7.0)


def test_example_user_catalog_declares_instruments():
    cat = Catalog.from_yaml(Path(REPO / "data" / "series.example.yaml"))
    assert cat["BUND10Y"].instrument == Instrument("untradable", currency="EUR")
    assert cat["EWJ"].instrument == Instrument("index", currency="USD")


def test_instrument_is_recorded_in_the_levels_provenance():
    levels = data.load(["USDJPY", "VIX"], start="2024-01-01", end="2024-03-31", offline=True)
    series = levels.attrs["backtest"]["series"]
    assert series["USDJPY"]["instrument"] == {
        "kind": "fx",
        "currency": "JPY",
        "base": "USD",
        "quote": "JPY",
    }
    assert series["VIX"]["instrument"] == {"kind": "untradable", "currency": "USD"}
