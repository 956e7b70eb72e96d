"""Tests of backtest.data.yahoo.

Two kinds of tests:

* pure parsing: frames built the way ``yfinance.multi._download_impl`` builds them
  (per-ticker frames with Open, High, Low, Close, Adj Close, Volume on an index named
  ``Date``, concatenated with ``names=['Ticker', 'Price']``, then for
  ``group_by='column'`` ``swaplevel(0, 1)`` and sorted);
* end to end through the real ``yfinance.download`` (yfinance 1.7.0), with only
  ``TickerBase.history`` replaced, so yfinance itself builds the MultiIndex and logs its
  real error messages. Every other path to the network is replaced by a function that
  fails the test: pytest-socket cannot see curl_cffi's sockets, which libcurl opens.

Price values are Yahoo's own, copied from data/snapshot/TNX_yahoo.csv (``^TNX``, source
alitalbi/storage_data_fy) and data/snapshot/N225_yahoo.csv (``^N225``, source
muneon0726-create/automation-market); see data/snapshot/SOURCES.md.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from backtest.data.sources import Source
from backtest.data.yahoo import FIELDS, YahooSource, frame_to_series
from backtest.errors import (
    DataSourceError,
    DataValidationError,
    RateLimitError,
    SymbolNotFoundError,
)

yf = pytest.importorskip("yfinance")
from yfinance.base import TickerBase  # noqa: E402
from yfinance.data import YfData  # noqa: E402
from yfinance.exceptions import (  # noqa: E402
    YFPricesMissingError,
    YFRateLimitError,
    YFTzMissingError,
)
from yfinance.scrapers.history import PriceHistory  # noqa: E402

REPO = Path(__file__).resolve().parents[2]

# yfinance 1.7.0 itself calls rename/sort_index(inplace=True), deprecated in pandas 3.1.
pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword:DeprecationWarning")

# ^TNX daily bars (Open, High, Low, Close), Yahoo values from data/snapshot/TNX_yahoo.csv.
TNX = {
    "2025-04-07": (3.9769999980926514, 4.210000038146973, 3.9719998836517334, 4.15500020980835),
    "2025-04-08": (4.2179999351501465, 4.275000095367432, 4.164000034332275, 4.26200008392334),
    "2025-04-09": (4.455999851226807, 4.473999977111816, 4.3429999351501465, 4.400000095367432),
    "2025-04-10": (4.328000068664551, 4.400000095367432, 4.289000034332275, 4.394000053405762),
    "2025-04-11": (4.440000057220459, 4.5920000076293945, 4.427000045776367, 4.493000030517578),
}
# ^TNX around Japan's Showa Day (2025-04-29), same file.
TNX_LATE_APRIL = {
    "2025-04-28": (4.28000020980835, 4.295000076293945, 4.214000225067139, 4.216000080108643),
    "2025-04-29": (4.2270002365112305, 4.244999885559082, 4.164000034332275, 4.172999858856201),
    "2025-04-30": (4.138999938964844, 4.229000091552734, 4.135000228881836, 4.177000045776367),
}
# ^N225 daily bars, Yahoo values from data/snapshot/N225_yahoo.csv (spot-checked against
# NIKKEI225 in SOURCES.md: 2025-04-07 close 31136.58, 2025-04-08 33012.58).
N225 = {
    "2025-04-07": (33154.9688, 33158.8711, 30792.7402, 31136.5801),
    "2025-04-08": (31729.1094, 33257.1602, 31703.6895, 33012.5781),
}
# ^N225 has no 2025-04-29 row: Showa Day, the Tokyo exchange was closed (same file).
N225_LATE_APRIL = {
    "2025-04-28": (35962.8008, 36075.2617, 35773.4883, 35839.9883),
    "2025-04-30": (35946.8789, 36056.5195, 35793.3281, 36045.3789),
}

COLUMNS = ["Open", "High", "Low", "Close", "Adj Close", "Volume"]


def bars(
    rows: dict[str, tuple[float, float, float, float]],
    tz: str | None = "America/New_York",
    adj: dict[str, float] | None = None,
) -> pd.DataFrame:
    """A per-ticker frame shaped like ``PriceHistory.history(auto_adjust=False)``.

    Index: exchange-local midnight named ``Date`` (tz-aware unless `tz` is None);
    columns Open, High, Low, Close, Adj Close, Volume. For an index Adj Close equals
    Close unless `adj` overrides it (hand-made values, to tell the columns apart).
    """
    index = pd.DatetimeIndex(list(rows), name="Date")
    if tz is not None:
        index = index.tz_localize(tz)
    data = np.array(list(rows.values()), dtype="float64")
    frame = pd.DataFrame(data, index=index, columns=["Open", "High", "Low", "Close"])
    frame["Adj Close"] = [
        (adj or {}).get(day, close) for day, close in zip(rows, data[:, 3], strict=True)
    ]
    frame["Volume"] = np.zeros(len(rows), dtype="int64")  # Yahoo reports 0 for indices
    return frame


def download_layout(per_ticker: dict[str, pd.DataFrame], group_by: str = "column") -> pd.DataFrame:
    """Combine per-ticker frames the way ``yfinance.multi._download_impl`` does."""
    dfs = {}
    for ticker, df in per_ticker.items():
        df = df.copy()
        if df.index.tz is not None:  # ignore_tz=True, the default for daily bars
            df.index = df.index.tz_localize(None)
        dfs[ticker] = df
    index = None
    for df in dfs.values():
        index = df.index if index is None else index.union(df.index)
    dfs = {k: df.reindex(index) for k, df in dfs.items()}  # multi.reindex_dfs
    data = pd.concat(dfs.values(), axis=1, sort=True, keys=dfs.keys(), names=["Ticker", "Price"])
    if group_by == "column":
        data.columns = data.columns.swaplevel(0, 1)
        data = data.sort_index(level=0, axis=1)
    return data


def dates(*days: str) -> list[pd.Timestamp]:
    return [pd.Timestamp(d) for d in days]


class RecordingSleep:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


# --------------------------------------------------------------------------- parsing


def test_frame_to_series_reads_download_multiindex_price_ticker():
    frame = download_layout({"^TNX": bars(TNX)})
    assert list(frame.columns.names) == ["Price", "Ticker"]
    assert ("Close", "^TNX") in frame.columns

    s = frame_to_series(frame, "^TNX", "close")

    # Yahoo ^TNX closes from data/snapshot/TNX_yahoo.csv
    expected = [4.15500020980835, 4.26200008392334, 4.400000095367432, 4.394000053405762]
    assert s.tolist()[:4] == expected
    assert s.iloc[-1] == 4.493000030517578
    assert list(s.index) == dates(*TNX)
    assert s.name == "^TNX"
    assert s.index.name == "date"
    assert s.dtype == "float64"
    assert s.index.tz is None


@pytest.mark.parametrize(
    ("field", "position"), [("open", 0), ("high", 1), ("low", 2), ("close", 3)]
)
def test_frame_to_series_each_price_field(field, position):
    frame = download_layout({"^TNX": bars(TNX)})
    s = frame_to_series(frame, "^TNX", field)
    # values as written in data/snapshot/TNX_yahoo.csv, column `field`
    assert s.tolist() == [row[position] for row in TNX.values()]


def test_frame_to_series_reads_group_by_ticker_layout():
    frame = download_layout({"^N225": bars(N225, tz="Asia/Tokyo")}, group_by="ticker")
    assert list(frame.columns.names) == ["Ticker", "Price"]

    s = frame_to_series(frame, "^N225", "close")

    # Yahoo ^N225 closes from data/snapshot/N225_yahoo.csv
    assert s.tolist() == [31136.5801, 33012.5781]
    assert list(s.index) == dates("2025-04-07", "2025-04-08")


def test_frame_to_series_picks_ticker_from_multi_ticker_frame_and_drops_nan_rows():
    # Two tickers: the union index gives ^N225 a NaN row on 2025-04-29 (Showa Day).
    frame = download_layout({"^TNX": bars(TNX_LATE_APRIL), "^N225": bars(N225_LATE_APRIL)})
    assert frame[("Close", "^N225")].isna().sum() == 1

    n225 = frame_to_series(frame, "^N225", "close")
    tnx = frame_to_series(frame, "^TNX", "close")

    # closes from data/snapshot/N225_yahoo.csv and TNX_yahoo.csv
    assert n225.to_dict() == {
        pd.Timestamp("2025-04-28"): 35839.9883,
        pd.Timestamp("2025-04-30"): 36045.3789,
    }
    assert tnx.tolist() == [4.216000080108643, 4.172999858856201, 4.177000045776367]


def test_frame_to_series_single_level_history_frame_tz_aware_new_york():
    # Ticker.history: single-level columns, index at midnight America/New_York.
    frame = bars(TNX)
    assert str(frame.index[0]) == "2025-04-07 00:00:00-04:00"

    s = frame_to_series(frame, "^TNX", "close")

    # local date kept: midnight -04:00 is 04:00 UTC the same day
    assert list(s.index) == dates(*TNX)
    assert s.iloc[0] == 4.15500020980835  # data/snapshot/TNX_yahoo.csv, 2025-04-07


def test_frame_to_series_tokyo_index_keeps_local_date():
    # ^N225 bar stamped 2025-04-07 00:00+09:00 is 2025-04-06 15:00 UTC; the date must
    # stay 2025-04-07 (the Tokyo trading day).
    frame = bars(N225, tz="Asia/Tokyo")
    assert str(frame.index[0]) == "2025-04-07 00:00:00+09:00"

    s = frame_to_series(frame, "^N225", "close")

    assert list(s.index) == dates("2025-04-07", "2025-04-08")
    # closes from data/snapshot/N225_yahoo.csv (SOURCES.md spot checks: 31136.58, 33012.58)
    assert s.round(2).tolist() == [31136.58, 33012.58]


def test_frame_to_series_multiindex_with_tz_aware_tokyo_index():
    # ignore_tz=False keeps the exchange time zone in a download frame.
    frame = pd.concat({"^N225": bars(N225, tz="Asia/Tokyo")}, axis=1, names=["Ticker", "Price"])
    frame.columns = frame.columns.swaplevel(0, 1)
    s = frame_to_series(frame, "^N225", "open")
    assert list(s.index) == dates("2025-04-07", "2025-04-08")
    assert s.tolist() == [33154.9688, 31729.1094]  # data/snapshot/N225_yahoo.csv opens


def test_frame_to_series_adj_close_is_not_close():
    # Hand-made Adj Close values (an index has none; these only tell the columns apart).
    adj = {"2025-04-07": 4.1, "2025-04-08": 4.2}
    frame = download_layout({"^TNX": bars(dict(list(TNX.items())[:2]), adj=adj)})

    assert frame_to_series(frame, "^TNX", "adj_close").tolist() == [4.1, 4.2]
    # Close from data/snapshot/TNX_yahoo.csv
    assert frame_to_series(frame, "^TNX", "close").tolist() == [
        4.15500020980835,
        4.26200008392334,
    ]


def test_frame_to_series_missing_adj_close_explains_auto_adjust():
    # yfinance with auto_adjust=True has no 'Adj Close' column.
    frame = download_layout({"^TNX": bars(TNX).drop(columns="Adj Close")})
    with pytest.raises(DataSourceError, match=r"'Adj Close'.*auto_adjust"):
        frame_to_series(frame, "^TNX", "adj_close")
    assert frame_to_series(frame, "^TNX", "close").size == 5


def test_frame_to_series_drops_nan_rows():
    frame = bars(TNX, tz=None)
    frame.loc[pd.Timestamp("2025-04-09"), ["Close", "Adj Close"]] = np.nan
    s = frame_to_series(frame, "^TNX", "close")
    assert pd.Timestamp("2025-04-09") not in s.index
    assert len(s) == 4
    assert not s.isna().any()


def test_frame_to_series_matches_ticker_case_insensitively():
    frame = download_layout({"JPY=X": bars({"2025-04-07": (146.0, 147.0, 145.0, 146.5)})})
    s = frame_to_series(frame, "jpy=x", "close")
    assert s.tolist() == [146.5]  # hand-made bar
    assert s.name == "jpy=x"


def test_frame_to_series_wrong_ticker_names_what_was_found():
    frame = download_layout({"^TNX": bars(TNX)})
    with pytest.raises(DataSourceError, match=r"\^N225.*\^TNX"):
        frame_to_series(frame, "^N225", "close")


@pytest.mark.parametrize("field", ["volume", "Close", "adjclose", ""])
def test_unknown_field_is_a_value_error(field):
    frame = bars(TNX)
    with pytest.raises(DataValidationError, match="close, adj_close, open, high, low"):
        frame_to_series(frame, "^TNX", field)
    with pytest.raises(ValueError):
        YahooSource(download=lambda *a, **k: frame).fetch("^TNX", field=field)


def test_fields_table():
    assert FIELDS == {
        "close": "Close",
        "adj_close": "Adj Close",
        "open": "Open",
        "high": "High",
        "low": "Low",
    }


# ---------------------------------------------------------------- injected download


class FakeDownload:
    """Records calls; returns or raises the queued outcomes in order."""

    def __init__(self, *outcomes):
        self.outcomes = list(outcomes)
        self.calls: list[tuple[tuple, dict]] = []

    def __call__(self, *args, **kwargs):
        self.calls.append((args, kwargs))
        outcome = self.outcomes.pop(0) if len(self.outcomes) > 1 else self.outcomes[0]
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome


def test_source_protocol():
    src = YahooSource(download=FakeDownload(pd.DataFrame()))
    assert isinstance(src, Source)
    assert YahooSource.name == "yahoo"
    assert YahooSource.host == "query1.finance.yahoo.com"


def test_fetch_passes_explicit_arguments_and_exclusive_end():
    fake = FakeDownload(download_layout({"^TNX": bars(TNX)}))
    s = YahooSource(download=fake).fetch("^TNX", dt.date(2025, 4, 7), dt.date(2025, 4, 11))

    (args, kwargs) = fake.calls[0]
    assert args == ("^TNX",)
    assert kwargs["start"] == "2025-04-07"
    assert kwargs["end"] == "2025-04-12"  # yfinance's end is exclusive: end + 1 day
    assert kwargs["auto_adjust"] is False  # explicit: default became True in 0.2.51
    assert kwargs["interval"] == "1d"
    assert kwargs["actions"] is False
    assert kwargs["progress"] is False
    assert kwargs["threads"] is False
    assert kwargs["multi_level_index"] is True
    assert kwargs["ignore_tz"] is True
    assert "period" not in kwargs
    assert s.index[-1] == pd.Timestamp("2025-04-11")


def test_fetch_without_start_asks_for_max_period():
    fake = FakeDownload(download_layout({"^TNX": bars(TNX)}))
    YahooSource(download=fake).fetch("^TNX")
    kwargs = fake.calls[0][1]
    assert kwargs["period"] == "max"
    assert "start" not in kwargs
    assert kwargs["end"] is None


def test_fetch_filters_to_requested_range():
    # The download returns more days than asked for; fetch keeps [start, end].
    fake = FakeDownload(download_layout({"^TNX": bars(TNX)}))
    s = YahooSource(download=fake).fetch("^TNX", dt.date(2025, 4, 8), dt.date(2025, 4, 9))
    assert list(s.index) == dates("2025-04-08", "2025-04-09")
    assert s.tolist() == [4.26200008392334, 4.400000095367432]  # TNX_yahoo.csv closes


def test_fetch_tz_aware_tokyo_download_keeps_local_dates():
    frame = pd.concat({"^N225": bars(N225, tz="Asia/Tokyo")}, axis=1, names=["Ticker", "Price"])
    frame.columns = frame.columns.swaplevel(0, 1)
    s = YahooSource(download=FakeDownload(frame)).fetch(
        "^N225", dt.date(2025, 4, 7), dt.date(2025, 4, 8)
    )
    # data/snapshot/N225_yahoo.csv closes, on the Tokyo dates
    assert s.to_dict() == {
        pd.Timestamp("2025-04-07"): 31136.5801,
        pd.Timestamp("2025-04-08"): 33012.5781,
    }


def test_fetch_rejects_start_after_end_before_downloading():
    fake = FakeDownload(pd.DataFrame())
    with pytest.raises(DataValidationError, match="after end"):
        YahooSource(download=fake).fetch("^TNX", dt.date(2025, 4, 9), dt.date(2025, 4, 8))
    assert fake.calls == []


def test_download_raising_rate_limit_is_retried_then_rate_limit_error():
    sleep = RecordingSleep()
    fake = FakeDownload(YFRateLimitError())
    with pytest.raises(RateLimitError, match=r"\^TNX.*3 attempts") as info:
        YahooSource(download=fake, retries=2, backoff=2.0, sleep=sleep).fetch("^TNX")
    assert len(fake.calls) == 3
    assert sleep.calls == [2.0, 4.0]  # backoff * 2**attempt
    assert "Too Many Requests" in str(info.value)


def test_rate_limit_exception_matched_by_class_name():
    class YFRateLimitError(Exception):  # a different yfinance version's class
        pass

    sleep = RecordingSleep()
    fake = FakeDownload(YFRateLimitError("slow down"), download_layout({"^TNX": bars(TNX)}))
    s = YahooSource(download=fake, sleep=sleep).fetch("^TNX")
    assert len(s) == 5
    assert sleep.calls == [2.0]


def test_other_download_exception_is_chained_data_source_error():
    boom = KeyError("chart")
    fake = FakeDownload(boom)
    sleep = RecordingSleep()
    with pytest.raises(DataSourceError, match=r"\^TNX.*KeyError") as info:
        YahooSource(download=fake, sleep=sleep).fetch("^TNX")
    assert not isinstance(info.value, (RateLimitError, SymbolNotFoundError))
    assert info.value.__cause__ is boom
    assert sleep.calls == []


def test_empty_frame_without_message_is_symbol_not_found():
    fake = FakeDownload(pd.DataFrame())
    with pytest.raises(SymbolNotFoundError, match=r"finance\.yahoo\.com/quote/\^TNXX"):
        YahooSource(download=fake).fetch("^TNXX")


def test_yfinance_only_imported_lazily():
    code = (
        "import sys, pandas as pd\n"
        "from backtest.data.yahoo import YahooSource\n"
        "assert 'yfinance' not in sys.modules, 'imported at module import'\n"
        "idx = pd.DatetimeIndex(['2025-04-07'], name='Date')\n"
        "frame = pd.DataFrame({'Close': [4.155]}, index=idx)\n"
        "YahooSource(download=lambda *a, **k: frame).fetch('^TNX')\n"
        "assert 'yfinance' not in sys.modules, 'imported with an injected download'\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env={"PYTHONPATH": str(REPO), "PATH": ""},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


# ------------------------------------------------------- end to end, real download


def _no_network(*args, **kwargs):
    raise AssertionError("test attempted to reach Yahoo")


@pytest.fixture
def yahoo_history(monkeypatch):
    """Replace ``TickerBase.history`` with queued outcomes; block all other network paths.

    Returns the list of outcomes (a frame or an exception, per call, in order; the last
    one repeats) and records each call's ticker and keyword arguments on ``.calls``.
    """

    class History(list):
        calls: list[tuple[str, dict]]

    outcomes = History()
    outcomes.calls = []

    def fake_history(self, *args, **kwargs):
        outcomes.calls.append((self.ticker, kwargs))
        outcome = outcomes.pop(0) if len(outcomes) > 1 else outcomes[0]
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome.copy()

    monkeypatch.setattr(TickerBase, "history", fake_history)
    for owner, attr in [
        (TickerBase, "_get_ticker_tz"),
        (TickerBase, "_fetch_ticker_tz"),
        (PriceHistory, "history"),
        (YfData, "get"),
        (YfData, "post"),
        (YfData, "cache_get"),
        (YfData, "_make_request"),
        (YfData, "_get_cookie_and_crumb"),
    ]:
        monkeypatch.setattr(owner, attr, _no_network)
    return outcomes


@pytest.fixture
def recorded_download(monkeypatch):
    """Wrap the real ``yfinance.download`` to record the arguments it receives."""
    calls: list[tuple[tuple, dict]] = []
    real = yf.download

    def wrapper(*args, **kwargs):
        calls.append((args, kwargs))
        return real(*args, **kwargs)

    monkeypatch.setattr(yf, "download", wrapper)
    return calls


def test_real_download_multiindex_parse(yahoo_history, recorded_download):
    yahoo_history.append(bars(TNX))  # tz-aware America/New_York, as Yahoo's chart API
    sleep = RecordingSleep()

    s = YahooSource(sleep=sleep).fetch("^TNX", dt.date(2025, 4, 7), dt.date(2025, 4, 11))

    # Yahoo ^TNX closes, data/snapshot/TNX_yahoo.csv
    assert s.tolist() == [
        4.15500020980835,
        4.26200008392334,
        4.400000095367432,
        4.394000053405762,
        4.493000030517578,
    ]
    assert list(s.index) == dates(*TNX)
    assert s.name == "^TNX"
    assert sleep.calls == []
    # what our code passed to yfinance.download
    (args, kwargs) = recorded_download[0]
    assert args == ("^TNX",)
    assert kwargs["end"] == "2025-04-12"  # exclusive end: 2025-04-11 + 1 day
    assert kwargs["auto_adjust"] is False
    # ... and what the real download forwarded to Ticker.history
    ticker, history_kwargs = yahoo_history.calls[0]
    assert ticker == "^TNX"
    assert history_kwargs["start"] == "2025-04-07"
    assert history_kwargs["end"] == "2025-04-12"
    assert history_kwargs["auto_adjust"] is False
    assert history_kwargs["interval"] == "1d"


def test_real_download_tokyo_keeps_local_dates(yahoo_history):
    yahoo_history.append(bars(N225, tz="Asia/Tokyo"))

    s = YahooSource().fetch("^N225", dt.date(2025, 4, 7), dt.date(2025, 4, 8))

    # data/snapshot/N225_yahoo.csv; SOURCES.md spot checks 31136.58 and 33012.58
    assert list(s.index) == dates("2025-04-07", "2025-04-08")
    assert s.round(2).tolist() == [31136.58, 33012.58]


def test_real_download_adj_close_vs_close(yahoo_history):
    adj = {"2025-04-07": 4.1, "2025-04-08": 4.2}  # hand-made, to tell columns apart
    yahoo_history.append(bars(dict(list(TNX.items())[:2]), adj=adj))
    src = YahooSource()
    start, end = dt.date(2025, 4, 7), dt.date(2025, 4, 8)
    assert src.fetch("^TNX", start, end, field="adj_close").tolist() == [4.1, 4.2]
    assert src.fetch("^TNX", start, end, field="close").tolist() == [
        4.15500020980835,
        4.26200008392334,
    ]


def test_real_download_drops_nan_rows(yahoo_history):
    frame = bars(TNX)
    frame.iloc[2, frame.columns.get_loc("Close")] = np.nan  # hand-made gap on 2025-04-09
    yahoo_history.append(frame)
    s = YahooSource().fetch("^TNX", dt.date(2025, 4, 7), dt.date(2025, 4, 11))
    assert pd.Timestamp("2025-04-09") not in s.index
    assert len(s) == 4


@pytest.mark.parametrize(
    ("error", "quoted"),
    [
        (
            YFPricesMissingError("^TNXX", "(1d 2025-04-07 -> 2025-04-12)"),
            "possibly delisted; no price data found",
        ),
        (YFTzMissingError("^TNXX"), "no timezone found"),
    ],
)
def test_real_download_bad_ticker_is_symbol_not_found(yahoo_history, error, quoted, caplog):
    yahoo_history.append(error)
    sleep = RecordingSleep()

    with pytest.raises(SymbolNotFoundError) as info:
        YahooSource(sleep=sleep).fetch("^TNXX", dt.date(2025, 4, 7), dt.date(2025, 4, 11))

    message = str(info.value)
    assert "'^TNXX'" in message
    assert quoted in message  # yfinance's own message, as it logged it
    assert "finance.yahoo.com/quote/^TNXX" in message
    assert sleep.calls == []
    assert len(yahoo_history.calls) == 1
    # yfinance really did log the failure (not raise)
    assert any(quoted in r.getMessage() for r in caplog.records if r.name == "yfinance")


def test_real_download_rate_limit_retries_then_raises(yahoo_history):
    yahoo_history.append(YFRateLimitError())
    sleep = RecordingSleep()

    with pytest.raises(RateLimitError) as info:
        YahooSource(retries=4, backoff=2.0, sleep=sleep).fetch(
            "^TNX", dt.date(2025, 4, 7), dt.date(2025, 4, 11)
        )

    assert len(yahoo_history.calls) == 5  # retries + 1
    assert sleep.calls == [2.0, 4.0, 8.0, 16.0]  # backoff * 2**attempt
    message = str(info.value)
    assert "^TNX" in message
    assert "5 attempts" in message
    # yfinance's logged text: "['^TNX']: YFRateLimitError('Too Many Requests. ...')"
    assert "YFRateLimitError('Too Many Requests. Rate limited. Try after a while.')" in message


def test_real_download_succeeds_after_one_rate_limit(yahoo_history):
    yahoo_history.extend([YFRateLimitError(), bars(TNX)])
    sleep = RecordingSleep()

    s = YahooSource(backoff=0.5, sleep=sleep).fetch(
        "^TNX", dt.date(2025, 4, 7), dt.date(2025, 4, 11)
    )

    assert sleep.calls == [0.5]
    assert len(yahoo_history.calls) == 2
    assert s.iloc[-1] == 4.493000030517578  # 2025-04-11 close, TNX_yahoo.csv


def test_real_download_capture_handler_is_removed(yahoo_history):
    import logging

    yahoo_history.append(YFRateLimitError())
    before = list(logging.getLogger("yfinance").handlers)
    with pytest.raises(RateLimitError):
        YahooSource(retries=0, sleep=RecordingSleep()).fetch("^TNX")
    assert logging.getLogger("yfinance").handlers == before
