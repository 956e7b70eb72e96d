"""The Instrument description: defaults per kind and refusals naming the field."""

from __future__ import annotations

import dataclasses

import pytest

from backtest.errors import DataValidationError
from backtest.instruments import INSTRUMENT_KINDS, Instrument


def test_kinds_and_defaults():
    assert INSTRUMENT_KINDS == ("bond", "fx", "index", "untradable")
    ust = Instrument("bond", currency="USD", maturity=10)
    assert (ust.maturity, ust.freq, ust.day_count) == (10.0, 2, "ACT/365.25")
    assert (
        Instrument("bond", currency="JPY", maturity=20.0, freq=2, day_count="ACT/365").day_count
        == "ACT/365"
    )
    usdjpy = Instrument("fx", base="USD", quote="JPY")
    assert usdjpy.currency == "JPY"
    assert Instrument("index", currency="USD").maturity is None
    assert Instrument("untradable", proxy="VIXY").proxy == "VIXY"
    with pytest.raises(dataclasses.FrozenInstanceError):
        ust.maturity = 5.0  # type: ignore[misc]
    assert ust == Instrument("bond", currency="USD", maturity=10.0, freq=2)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"kind": "swap"}, "kind must be one of"),
        ({"kind": "bond"}, "maturity must be"),
        ({"kind": "bond", "maturity": -2.0}, "maturity must be"),
        ({"kind": "bond", "maturity": 10.0, "freq": 3}, "freq must be"),
        ({"kind": "bond", "maturity": 10.0, "day_count": "30/360"}, "day_count must be"),
        ({"kind": "bond", "maturity": 10.0, "base": "USD"}, "base applies only to kind 'fx'"),
        ({"kind": "fx", "base": "USD"}, "base and quote are required"),
        ({"kind": "fx", "base": "USD", "quote": "USD"}, "must differ"),
        ({"kind": "fx", "base": "usd", "quote": "JPY"}, "base must be a three-letter"),
        ({"kind": "fx", "base": "USD", "quote": "JPY", "currency": "USD"}, "quote currency"),
        (
            {"kind": "fx", "base": "USD", "quote": "JPY", "maturity": 1.0},
            "maturity applies only to kind 'bond'",
        ),
        ({"kind": "index", "proxy": "SPY"}, "proxy applies only to kind 'untradable'"),
    ],
)
def test_bad_descriptions_name_the_field(kwargs, match):
    with pytest.raises(DataValidationError, match=match):
        Instrument(**kwargs)
