"""The one place that wires a run: config -> data -> events -> event study -> report.

:func:`run` does the work and returns a :class:`RunResult`; :func:`write_run` writes
the run directory atomically (built in a temporary folder beside it and renamed into
place only when complete, so a failed run leaves nothing half-written).

Run directory::

    report.html          self-contained HTML report (no network needed)
    summary.md           Markdown summary
    results.json         every table, machine-readable (schema: backtest/report/results.schema.json)
    config.yaml          the complete resolved config, CLI overrides included
    levels.parquet       the levels the study used
    tables/              abnormal, CAR, reactions and test tables as CSV and parquet;
                         attribution_<i>_<name>: strategy i's daily return attribution
"""

from __future__ import annotations

import datetime as dt
import json
import math
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from backtest import __version__
from backtest import data as data_mod
from backtest import events as events_mod
from backtest.config import RunConfig
from backtest.errors import BacktestError, ConfigError, DataValidationError, UnknownSeriesError
from backtest.eventstudy import EventStudy, EventStudyResult, signing
from backtest.eventstudy import regression as regression_mod
from backtest.eventstudy.alignment import market_columns
from backtest.eventstudy.models import MARKET_MODELS
from backtest.execution import Executor, LocalExecutor

__all__ = [
    "SCHEMA",
    "Progress",
    "RunResult",
    "TaskProgress",
    "run",
    "validate_config",
    "write_run",
]

#: Identifier of the results.json layout; bumped on incompatible changes.
SCHEMA = "backtest.results/1"

#: Called with the name of each stage as it starts.
Progress = Callable[[str], None]
#: Called with (stage, tasks done, tasks) as the chunks of a stage's work complete.
TaskProgress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class RunResult:
    """Everything a run produced, before it is written.

    Attributes
    ----------
    config : RunConfig
        The resolved config.
    levels : pandas.DataFrame
        Levels used (studied series and market/factors).
    events : pandas.DataFrame
        The events studied.
    study : EventStudyResult
        The event-study result.
    results : dict
        The content of ``results.json``.
    tables : dict of str to DataFrame
        Tables written under ``tables/``.
    """

    config: RunConfig
    levels: pd.DataFrame
    events: pd.DataFrame
    study: EventStudyResult
    results: dict[str, Any]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    def _repr_html_(self) -> str:
        """Compact HTML for notebooks (:func:`backtest.report.notebook.run_html`)."""
        from backtest.report.notebook import run_html

        return run_html(self)

    def __repr__(self) -> str:
        from backtest.report.notebook import run_text

        return run_text(self)


def _noop(stage: str) -> None:
    return None


def run(
    config: RunConfig,
    *,
    config_path: Path | None = None,
    progress: Progress = _noop,
    executor: Executor | None = None,
    tasks: TaskProgress | None = None,
    validated: bool = False,
) -> RunResult:
    """Run a config: load data and events, run the event study, assemble the results.

    Parameters
    ----------
    config : RunConfig
        Validated config (:func:`backtest.config.load_config`).
    config_path : pathlib.Path, optional
        The file it came from (recorded in the results).
    progress : callable, optional
        Called with the name of each stage as it starts.
    executor : Executor, optional
        Where sweeps and large event studies run (:func:`backtest.execution.executor`
        opened from ``config.execution``); in this process by default.
    tasks : callable, optional
        Called with (stage, tasks done, tasks) as each chunk of an event study or a
        sweep completes, locally or on the cluster.
    validated : bool
        The caller already ran :func:`validate_config` on `config` (as ``backtest run``
        does before opening a cluster); it is not run again.

    Returns
    -------
    RunResult

    Raises
    ------
    backtest.errors.ConfigError
        The config names something that does not exist (:func:`validate_config`,
        run first, before any data is loaded).
    """
    started = time.perf_counter()
    if not validated:
        validate_config(config, config_path)
    cfg_data, cfg_es = config.data, config.event_study
    progress("loading data")
    catalog = data_mod.catalog(*cfg_data.catalogs)
    if cfg_data.define:
        catalog = catalog.merge(
            data_mod.Catalog.from_dict({"series": cfg_data.define}, where="data.define")
        )
    loader = data_mod.DataLoader(catalog, cache=cfg_data.cache_dir, offline=cfg_data.offline)
    regressors = [*market_columns(cfg_es.market), *cfg_es.factors]
    names = list(
        dict.fromkeys(
            [*cfg_data.series, *regressors, *_strategy_series(config), *_reaction_series(cfg_es)]
        )
    )
    # Up to the config's end only: nothing later is downloaded, and a local copy that
    # reaches `end` means no network at all. History before `start` is kept (percentiles);
    # a series without observations in [start, end] is an error naming its dates.
    loaded = [
        loader.load_series(
            n, cfg_data.start, cfg_data.end, prefer=cfg_data.sources.get(n), history=True
        )
        for n in names
    ]
    history = data_mod.to_frame(loaded)
    rate_names = _strategy_rates(config, catalog)
    rates = None
    if rate_names:
        rates = data_mod.to_frame(
            [loader.load_series(n, None, cfg_data.end, history=True) for n in rate_names]
        )
    levels = history.loc[
        pd.Timestamp(cfg_data.start) if cfg_data.start else None : pd.Timestamp(cfg_data.end)
        if cfg_data.end
        else None
    ]
    levels.attrs = history.attrs

    progress("loading events")
    events = _events(config)

    progress("running the event study")
    study = EventStudy.from_config(cfg_es, series=cfg_data.series)
    runner = executor if executor is not None else LocalExecutor()
    res = study.run(
        levels,
        events,
        history=history,
        executor=runner,
        block_size=config.execution.block_size,
        progress=_per_task(tasks, "running the event study"),
    )

    progress("assembling results")
    tables: dict[str, pd.DataFrame] = {"abnormal": res.abnormal, "aar": res.aar().reset_index()}
    windows = []
    for a, b in cfg_es.windows:
        key = _window_key(a, b)
        reactions = res.reactions(a, b)
        tests = res.tests(
            a, b, groups=cfg_es.groups, draws=cfg_es.bootstrap_draws, seed=cfg_es.seed
        )
        tests = tests[tests["test"].isin(cfg_es.tests)].reset_index(drop=True)
        car = res.car(a, b)
        incomplete = res.incomplete(a, b)
        tables[f"reactions_{key}"] = reactions
        tables[f"tests_{key}"] = tests
        tables[f"car_{key}"] = car.reset_index()
        windows.append(
            {
                "window": [a, b],
                "car": _records(car.reset_index()),
                "reactions": _records(reactions),
                "tests": _records(tests),
                "incomplete": _records(incomplete),
                **_split(res, cfg_es, a, b, tables, key),
            }
        )
    if cfg_es.model == "garch":  # per-pair mu, omega, alpha, beta of the GARCH fits
        tables["parameters"] = res.parameters
    volatility = []
    for a, b in cfg_es.volatility_windows:
        key = _window_key(a, b)
        vol_tests = res.volatility_tests(a, b, groups=cfg_es.groups)
        ratios = res.variance_ratios(a, b)
        tables[f"volatility_{key}"] = vol_tests
        tables[f"variance_ratios_{key}"] = ratios
        volatility.append(
            {"window": [a, b], "tests": _records(vol_tests), "variance_ratios": _records(ratios)}
        )
    placebo = None
    if cfg_es.placebo is not None:
        progress("placebo study")
        pc = cfg_es.placebo
        pl = res.placebo(
            pc.window if pc.window is not None else cfg_es.windows[0],
            groups=cfg_es.groups,
            draws=pc.draws,
            match=pc.match,
            seed=pc.seed,
            design=pc.design,
            bootstrap_draws=pc.bootstrap_draws,
            progress=_per_task(tasks, "placebo study"),
        )
        placebo = pl.as_dict()
        placebo["tests"] = [r for r in placebo["tests"] if r["test"] in cfg_es.tests]
    strategies, equity = [], {}
    benchmarks: dict[Any, Any] = {}  # buy-and-hold benchmarks of the tearsheets, shared
    for i, sc in enumerate(config.strategies):
        stage = f"strategy {sc.name}"
        progress(stage)
        entry, curve, sweep_table, attribution, daily = _run_strategy(
            sc,
            levels,
            events,
            res.day0,
            runner,
            config.execution.chunk_size,
            _per_task(tasks, stage),
            config.execution.chunk_memory_bytes,
            rates,
            benchmarks,
        )
        strategies.append(entry)
        equity[f"{i}:{sc.name}[{sc.series}]"] = curve
        if sweep_table is not None:
            tables[f"sweep_{i}_{sc.name}"] = sweep_table
        if attribution is not None:  # daily components; report/attribution.py draws them
            tables[f"attribution_{i}_{sc.name}"] = attribution
        # daily returns beside the benchmark's; report/tearsheet.py draws them
        tables[f"tearsheet_{i}_{sc.name}"] = daily
    if equity:
        tables["equity"] = pd.DataFrame(equity).rename_axis("date").reset_index()
    results = {
        "schema": SCHEMA,
        "run": {
            "name": config.name,
            "title": config.title,
            "description": config.description,
            "config_file": str(config_path) if config_path else None,
            "backtest_version": __version__,
            "python": platform.python_version(),
            "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "run_seconds": round(time.perf_counter() - started, 3),
            "execution": {
                **runner.describe(),
                # chunking: the requested sizes; each sweep records the size it used
                "chunk_size": config.execution.chunk_size,
                "chunk_memory": config.execution.chunk_memory,
                "block_size": config.execution.block_size,
            },
        },
        "config": config.model_dump(mode="json"),
        "data": {
            "start": _iso(levels.index[0]) if len(levels) else None,
            "end": _iso(levels.index[-1]) if len(levels) else None,
            "series": levels.attrs.get("backtest", {}).get("series", {}),
            **(
                {"rates": rates.attrs.get("backtest", {}).get("series", {})}
                if rates is not None
                else {}
            ),
        },
        "events": _records(events[list(events_mod.EVENT_COLUMNS)]),
        "event_study": {
            "design": res.describe(),
            "units": res.units,
            "windows": windows,
            **_clock_records(res),
            **_regressions(res, cfg_es),
            **({"volatility": volatility} if volatility else {}),
            **({"placebo": placebo} if placebo is not None else {}),
        },
        "strategies": strategies,
    }
    return RunResult(config, levels, events, res, _clean(results), tables)


def validate_config(config: RunConfig, path: str | Path | None = None) -> None:
    """Check what the config names against the rest of the project, before any work.

    :func:`backtest.config.load_config` checks the config's own schema; this step
    checks what needs other modules: every series (studied, market, factors,
    sources, strategies' traded and required series) is in the catalog, each
    ``event_study.groups`` member is studied, every events file exists and reads, and
    every strategy is installed, with valid parameters and a sweep whose values fit
    its parameter types and whose combinations are within ``max_combinations``
    (counted, never built). :func:`run` calls it first; ``backtest run`` calls it
    right after loading the config.

    Parameters
    ----------
    config : RunConfig
        A loaded config.
    path : path, optional
        The file it came from, named in the messages (default ``config``).

    Raises
    ------
    backtest.errors.ConfigError
        The first problem found, naming the file, the field and the fix, e.g.
        ``configs/x.yaml: data.series[1]: unknown series 'UST1OY'; did you mean ...``.
    """
    from backtest.data.catalog import instrument_record
    from backtest.engine.legs import rate_series
    from backtest.engine.tradable import untradable_message
    from backtest.space import check_count, parse_space
    from backtest.strategy import get_strategy

    where = str(path) if path is not None else "config"
    try:
        cat = data_mod.catalog(*config.data.catalogs)
        if config.data.define:
            cat = cat.merge(
                data_mod.Catalog.from_dict(
                    {"series": config.data.define}, where=f"{where}: data.define"
                )
            )
    except BacktestError as exc:
        raise ConfigError(f"{where}: {exc}") from None

    def unknown(name: str) -> str | None:
        """The catalog's message for a series it does not hold (with suggestions)."""
        try:
            cat[name]
        except UnknownSeriesError as exc:
            return str(exc)
        return None

    es = config.event_study
    named = [
        *(("data.series", i, n) for i, n in enumerate(config.data.series)),
        *(
            ("event_study.market", key, n)
            for key, n in (
                es.market.items() if isinstance(es.market, dict) else [(None, es.market)]
            )
            if n is not None
        ),
        *(("event_study.factors", i, n) for i, n in enumerate(es.factors)),
        *(("data.sources", None, n) for n in config.data.sources),
    ]
    for field_name, index, name in named:
        message = unknown(name)
        if message is not None:
            at = f"{field_name}[{index}]" if index is not None else field_name
            raise ConfigError(f"{where}: {at}: {message}")
    if isinstance(es.market, dict):
        for key in es.market:
            if key != "default" and key not in config.data.series:
                raise ConfigError(
                    f"{where}: event_study.market: key {key!r} is not one of data.series "
                    f"{list(config.data.series)}; use one of them or 'default'"
                )
    for spec_name in ("sign_by", "surprise_from"):
        series = signing.reaction_series(getattr(es, spec_name))
        message = None if series is None else unknown(series)
        if message is not None:
            raise ConfigError(f"{where}: event_study.{spec_name}: {message}")
    for r, reg in enumerate(es.regressions):
        for i, member in enumerate(reg.series):
            if member not in config.data.series:
                raise ConfigError(
                    f"{where}: event_study.regressions[{r}].series[{i}]: {member!r} is not one "
                    f"of data.series {list(config.data.series)}; add it to data.series"
                )
    for gname, members in es.groups.items():
        for i, member in enumerate(members):
            if member not in config.data.series:
                raise ConfigError(
                    f"{where}: event_study.groups.{gname}[{i}]: {member!r} is not one of "
                    f"data.series {list(config.data.series)}; add it to data.series"
                )
    for i, extra in enumerate(es.exclude_events):
        if not Path(extra).is_file():
            raise ConfigError(
                f"{where}: event_study.exclude_events[{i}]: file not found: {extra}; check the "
                "path (relative to the config file)"
            )
        try:
            events_mod.load(extra)
        except BacktestError as exc:
            raise ConfigError(f"{where}: event_study.exclude_events[{i}]: {exc}") from None
    event_columns: set[str] = set(events_mod.EVENT_COLUMNS)
    for i, file in enumerate(config.events.files):
        if not Path(file).is_file():
            raise ConfigError(
                f"{where}: events.files[{i}]: file not found: {file}; check the path "
                "(relative to the config file)"
            )
        try:  # read now (small), so a bad row stops the run before any data is loaded
            columns = events_mod.load(file, timezone=config.events.timezone).columns
        except BacktestError as exc:
            raise ConfigError(f"{where}: events.files[{i}]: {exc}") from None
        event_columns.update(str(c) for c in columns)
    _check_event_columns(es, event_columns, where)
    for i, sc in enumerate(config.strategies):
        at = f"{where}: strategies[{i}]"
        message = unknown(sc.series)
        if message is not None:
            raise ConfigError(f"{at}.series: {message}")
        instrument = instrument_record(cat[sc.series].instrument)
        if instrument and instrument["kind"] == "untradable" and not sc.allow_untradable:
            raise ConfigError(
                untradable_message(
                    sc.series,
                    instrument,
                    f"{at}.series",
                    allow=f"set strategies[{i}].allow_untradable: true",
                )
            )
        try:
            strat = get_strategy(sc.name)
            parsed = strat.parse(sc.params)
            required = strat.required_series(parsed, sc.series)
            legs = strat.legs(parsed, sc.series)
        except BacktestError as exc:
            raise ConfigError(f"{at}: {exc}") from None
        for extra in [*legs, *required]:
            if extra not in cat:
                raise ConfigError(
                    f"{at}: strategy {sc.name!r} needs series {extra!r}, not in the catalog; "
                    "define it under data.define or add a catalog (data.catalogs)"
                )
        records = _leg_instruments(cat, legs)
        for leg, record in records.items():
            if record and record["kind"] == "untradable" and not sc.allow_untradable:
                raise ConfigError(
                    untradable_message(
                        leg,
                        record,
                        f"{at}.legs",
                        allow=f"set strategies[{i}].allow_untradable: true",
                    )
                )
        try:
            rates = rate_series(records, sc.funding)
            for rate in rates:
                if rate not in cat:
                    raise ConfigError(
                        f"funding: needs short rate {rate!r}, not in the catalog; define it "
                        "under data.define, or set funding: none"
                    )
        except ConfigError as exc:
            raise ConfigError(f"{at}: {exc}") from None
        if sc.funding == "short_rate" and sc.risk_free != 0.0 and rates:
            raise ConfigError(
                f"{at}.risk_free: {sc.risk_free:g} applies only with funding: none (the legs "
                "are charged their currencies' short rates); set risk_free: 0 or funding: none"
            )
        if sc.sweep:  # every value checked, the combinations counted (not built)
            grid = parse_space(strat.Params, sc.sweep, where=f"{at}.sweep")
            assert not isinstance(grid, tuple)
            count = min(sc.samples or 0, grid.size) if sc.method == "random" else grid.size
            check_count(
                count,
                sc.max_combinations,
                where=f"{at}.sweep of {sc.name!r}",
                limit_name=f"strategies[{i}].max_combinations: N, or null for none",
            )


def _check_event_columns(es: Any, columns: set[str], where: str) -> None:
    """The events columns that sign_by, surprise_from and split_by name exist."""
    made = {"sign"} if es.sign_by else set()
    if es.surprise_from:
        made.add("surprise")
    wanted = [
        ("sign_by", es.sign_by if es.sign_by in signing.SIGN_COLUMNS else None),
        ("surprise_from", None if signing.reaction_series(es.surprise_from) else es.surprise_from),
        ("split_by", es.split_by),
    ]
    for key, column in wanted:
        if column is not None and column not in columns | made:
            raise ConfigError(
                f"{where}: event_study.{key}: the events have no {column!r} column (columns: "
                f"{sorted(columns)}); add the column to the events file or name another"
            )


def _reaction_series(cfg_es: Any) -> list[str]:
    """Series that sign the events or give their surprise (``reaction:<SERIES>``)."""
    found = (signing.reaction_series(v) for v in (cfg_es.sign_by, cfg_es.surprise_from))
    return [x for x in found if x is not None]


def _split(
    res: EventStudyResult,
    cfg_es: Any,
    a: int,
    b: int,
    tables: dict[str, pd.DataFrame],
    key: str,
) -> dict[str, Any]:
    """The cross-event tests per value of ``event_study.split_by`` (empty without it)."""
    column = cfg_es.split_by
    if column is None:
        return {}
    groups = signing.event_groups(res.events, column, where="event_study.split_by")
    out, frames = [], []
    for value, ids in groups.items():
        tests = res.tests(
            a, b, groups=cfg_es.groups, draws=cfg_es.bootstrap_draws, seed=cfg_es.seed, events=ids
        )
        tests = tests[tests["test"].isin(cfg_es.tests)].reset_index(drop=True)
        out.append({"column": column, "value": value, "events": ids, "tests": _records(tests)})
        frames.append(tests.assign(**{column: value}))
    if frames:
        tables[f"tests_{key}_by_{column}"] = pd.concat(frames, ignore_index=True)
    return {"split": out}


def _regressions(res: EventStudyResult, cfg_es: Any) -> dict[str, Any]:
    """Fitted ``event_study.regressions`` as JSON records (empty without any)."""
    if not cfg_es.regressions:
        return {}
    out = []
    for reg in cfg_es.regressions:
        series = list(reg.series) or list(res.series)
        fit = res.regress(reg.formula, reg.window, series=series, cov=reg.cov)
        out.append(
            regression_mod.summarize(
                fit, formula=reg.formula, window=reg.window, series=series, cov=reg.cov
            )
        )
    return {"regressions": out}


def _per_task(tasks: TaskProgress | None, stage: str) -> Callable[[int, int], None] | None:
    """The (done, total) callback of one stage's chunks, or None without a display."""
    if tasks is None:
        return None
    return lambda done, total: tasks(stage, done, total)


def _validation_spec(v: Any) -> dict[str, Any] | None:
    if v is None:
        return None
    return {
        "method": v.method,
        "train_fraction": v.train_fraction,
        "train_bars": v.train_bars,
        "test_bars": v.test_bars,
    }


def _strategy_series(config: RunConfig) -> list[str]:
    from backtest.strategy import get_strategy

    out: list[str] = []
    for sc in config.strategies:
        strat = get_strategy(sc.name)
        p = strat.parse(sc.params)
        out += [sc.series, *strat.legs(p, sc.series), *strat.required_series(p, sc.series)]
    return out


def _strategy_rates(config: RunConfig, catalog: Any) -> list[str]:
    """The short rates the strategies' legs need (fx carry, funding), loaded apart from
    the levels so that their calendar days do not become rows of the study's frame."""
    from backtest.engine.legs import rate_series
    from backtest.strategy import get_strategy

    out: list[str] = []
    for sc in config.strategies:
        strat = get_strategy(sc.name)
        legs = strat.legs(strat.parse(sc.params), sc.series)
        rates = rate_series(_leg_instruments(catalog, legs), sc.funding)
        out += [n for n in rates if n not in out]
    return out


def _leg_instruments(catalog: Any, legs: list[str]) -> dict[str, dict[str, Any] | None]:
    """Each leg's catalog instrument record (None: not declared). An ``untradable`` one
    needs no rate (:func:`backtest.engine.legs.rate_series` trades it as a price, as the
    engine does when it is allowed; :func:`validate_config` refuses it otherwise)."""
    from backtest.data.catalog import instrument_record

    return {leg: instrument_record(catalog[leg].instrument) for leg in legs}


def _run_strategy(
    sc: Any,
    levels: pd.DataFrame,
    events: pd.DataFrame,
    day0: pd.DataFrame,
    runner: Executor,
    chunk_size: int,
    tasks: Callable[[int, int], None] | None = None,
    chunk_memory: int | None = None,
    rates: pd.DataFrame | None = None,
    benchmarks: dict[Any, Any] | None = None,
) -> tuple[dict[str, Any], pd.Series, pd.DataFrame | None, pd.DataFrame | None, pd.DataFrame]:
    """Backtest, sweep and validate one configured strategy.

    `benchmarks` holds the buy-and-hold benchmarks of the tearsheets computed so far on
    these levels and rates, by :func:`backtest.tearsheet.benchmark_key`; this strategy's
    is taken from it or added to it.

    Returns its results.json entry, its equity curve, its sweep table (or None), its
    daily attribution table (or None when the engine gives no attribution) and its
    tearsheet's daily table (returns, excess returns, the benchmark's excess returns).

    ``params``/``metrics``/``trades`` (and the equity curve, attribution and tearsheet)
    are always those of the **configured** parameters (``params`` of the config, the
    strategy's defaults for the rest); with a sweep, ``sweep.best`` and
    ``sweep.best_metrics`` are the sweep's best combination by Sharpe, side by side.
    """
    from backtest import engine
    from backtest.tearsheet import benchmark_key, buy_and_hold, tearsheet

    costs = {
        "fees_bps": sc.fees_bps,
        "slippage_bps": sc.slippage_bps,
        "periods_per_year": sc.periods_per_year,
        "risk_free": sc.risk_free,
        "funding": sc.funding,
        "rates": rates,
    }
    entry: dict[str, Any] = {
        "name": sc.name,
        "series": sc.series,
        "sweep": None,
        "validation": None,
    }
    params = dict(sc.params)
    sweep_table = None
    spec = _validation_spec(sc.validation)
    if sc.sweep:
        # fixed params are one value each (a list-valued param is one value, not many)
        space = {**{k: [v] for k, v in params.items()}, **sc.sweep}
        sw = engine.sweep(
            sc.name,
            space,
            levels,
            events,
            series=sc.series,
            method=sc.method,
            samples=sc.samples,
            seed=sc.seed,
            chunk_size=sc.chunk_size or chunk_size,
            day0=day0,
            executor=runner,
            progress=tasks,
            chunk_memory=chunk_memory,
            # The run needs the table, the selection statistics and each validation
            # fold's pick, not every combination's returns: memory and the bytes a
            # cluster ships stay flat however many combinations there are.
            keep_returns=False,
            validation=spec,
            max_combinations=sc.max_combinations,
            allow_untradable=sc.allow_untradable,
            **costs,
        )
        metric_cols = list(engine.METRICS)
        best_row = sw.table.iloc[sw.best]
        best = {k: _scalar(v) for k, v in best_row.items() if k not in metric_cols}
        top = sw.table.sort_values("sharpe", ascending=False, kind="stable").head(20)
        entry["sweep"] = {
            "space": sc.sweep,
            "method": sc.method,
            "combinations": len(sw.table),
            "chunk_size": sw.settings["chunk_size"],
            "tasks": -(-len(sw.table) // sw.settings["chunk_size"]),
            "best": best,
            "best_metrics": {k: _scalar(best_row[k]) for k in metric_cols},
            "selection": sw.selection,
            "top": _records(top),
        }
        sweep_table = sw.table
        if spec is not None:
            # the folds the sweep chose in its chunks; the sweep is not rerun
            val = engine.out_of_sample(sw, **spec)
            entry["validation"] = {
                "method": spec["method"],
                "folds": _records(val.folds),
                "oos_metrics": val.oos_metrics,
            }
    bt = engine.backtest(
        sc.name,
        params,
        levels,
        events,
        series=sc.series,
        day0=day0,
        allow_untradable=sc.allow_untradable,
        **costs,
    )
    entry.update(
        {
            "params": bt.params,
            "settings": bt.settings,
            "metrics": bt.metrics,
            "trades": _records(bt.trades),
        }
    )
    entry.update(_portfolio_fields(bt))
    benchmarks = {} if benchmarks is None else benchmarks
    key = benchmark_key(bt)
    if key not in benchmarks:
        benchmarks[key] = buy_and_hold(bt, levels, rates)
    sheet = tearsheet(bt, benchmarks[key], levels=levels, rates=rates)
    entry["tearsheet"] = sheet.as_dict()
    daily = pd.DataFrame(
        {
            "returns": sheet.returns,
            "excess_returns": sheet.excess_returns,
            "benchmark_excess": sheet.benchmark_excess.reindex(sheet.returns.index),
        }
    ).rename_axis("date")
    frame = getattr(bt, "attribution", None)
    attribution = None if frame is None else _attribution_table(frame)
    return entry, bt.equity, sweep_table, attribution, daily.reset_index()


#: How results.json's ``attribution`` sums add up the daily components.
_ATTRIBUTION_METHOD = "arithmetic sum of daily contributions"


def _portfolio_fields(bt: Any) -> dict[str, Any]:
    """results.json's ``legs``, ``instruments`` and ``attribution`` of a backtest.

    Each key is present only when the engine gives it (an engine without legs or
    attribution leaves the entry as it was).
    """
    out: dict[str, Any] = {}
    legs = getattr(bt, "legs", None)
    if legs is not None:
        out["legs"] = [str(leg) for leg in legs]
    instruments = (getattr(bt, "settings", None) or {}).get("instruments")
    if instruments is not None:
        out["instruments"] = instruments
    frame = getattr(bt, "attribution", None)
    if frame is not None:
        out["attribution"] = _attribution_summary(frame)
    return out


def _check_attribution(frame: Any) -> pd.DataFrame:
    """`frame` if it is an attribution frame: columns (leg, component), numeric values."""
    where = "BacktestResult.attribution"
    if not isinstance(frame, pd.DataFrame):
        raise DataValidationError(f"{where}: must be a DataFrame, got {type(frame).__name__}")
    if not isinstance(frame.columns, pd.MultiIndex) or frame.columns.nlevels != 2:
        raise DataValidationError(
            f"{where}: columns must be a 2-level MultiIndex (leg, component), got "
            f"{list(frame.columns)[:4]!r}"
        )
    bad = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if bad:
        raise DataValidationError(f"{where}: columns {bad!r} must be numeric daily returns")
    return frame


def _attribution_summary(frame: pd.DataFrame) -> dict[str, Any]:
    r"""results.json's ``attribution`` of one strategy: each component's summed contribution.

    Parameters
    ----------
    frame : pandas.DataFrame
        ``BacktestResult.attribution``: daily simple (decimal) contributions to the
        strategy's return, index bar dates, columns a 2-level MultiIndex ``(leg,
        component)`` with components among ``price``, ``accrual``, ``carry``,
        ``funding``, ``costs``.

    Returns
    -------
    dict
        ``components`` ({leg: {component: sum over days}}, in the frame's order),
        ``total`` (every component but ``funding``: the strategy's return), ``funding``
        (all legs' funding), ``excess`` (all components: the return in excess of
        funding) and ``method`` (``"arithmetic sum of daily contributions"``). Decimal fractions of
        capital; missing days (NaN) count as 0.

    Raises
    ------
    backtest.errors.DataValidationError
        `frame` is not a DataFrame with numeric ``(leg, component)`` columns.

    Notes
    -----
    The sums are arithmetic, not compounded: with daily contributions
    :math:`a_{l,c,t}`, a component's contribution is :math:`\sum_t a_{l,c,t}`, and the
    sum of all but funding is :math:`\sum_t r_t`, not the compounded total return of
    the metrics (:math:`\prod_t (1 + r_t) - 1`).
    """
    frame = _check_attribution(frame)
    sums = frame.sum(axis=0)
    components: dict[str, dict[str, float]] = {}
    for (leg, component), value in sums.items():
        components.setdefault(str(leg), {})[str(component)] = float(value)
    is_funding = sums.index.get_level_values(1) == "funding"
    funding = float(sums[is_funding].sum())
    total = float(sums[~is_funding].sum())
    return {
        "components": components,
        "total": total,
        "funding": funding,
        "excess": float(sums.sum()),
        "method": _ATTRIBUTION_METHOD,
    }


def _attribution_table(frame: pd.DataFrame) -> pd.DataFrame:
    """The daily attribution as a flat table: ``date`` then one ``leg:component`` column each."""
    frame = _check_attribution(frame)
    flat = frame.copy()
    flat.columns = pd.Index([f"{leg}:{component}" for leg, component in frame.columns])
    return flat.rename_axis("date").reset_index()


def _clock_records(res: EventStudyResult) -> dict[str, Any]:
    """results.json's records of the clock rules (only those the run used)."""
    out: dict[str, Any] = {}
    if res.design.model in MARKET_MODELS:
        out["alignment"] = _records(res.alignment)
    if res.design.estimation_exclude == "events":
        out["clean_windows"] = _records(res.clean_windows)
    guarded = res.guarded
    pairs = [(ev, s) for ev, row in guarded.iterrows() for s, flag in row.items() if flag]
    if pairs:
        out["guarded"] = [
            {
                "event": str(ev),
                "series": str(s),
                "day0": _scalar(res.day0.loc[ev, s]),
                "guard_minutes": res.design.session_guard,
            }
            for ev, s in pairs
        ]
    return out


def _events(config: RunConfig) -> pd.DataFrame:
    ev = config.events
    frames = [events_mod.load(path, timezone=ev.timezone) for path in ev.files]
    if ev.inline:
        rows = [
            {
                "id": e.id,
                "date": e.date.isoformat(),
                "time": e.time,
                "timezone": e.timezone,
                "label": e.label,
                "category": e.category,
            }
            for e in ev.inline
        ]
        frames.append(events_mod.from_records(rows, where="events.inline", timezone=ev.timezone))
    merged = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    merged = events_mod.from_frame(merged, where="events")
    return events_mod.select(
        merged, categories=ev.categories, ids=ev.ids, start=ev.start, end=ev.end
    )


def _window_key(a: int, b: int) -> str:
    return f"{a}_{b}".replace("-", "m")


def _iso(ts: pd.Timestamp) -> str:
    return ts.date().isoformat()


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    columns = list(frame.columns)
    for row in frame.itertuples(index=False, name=None):
        out.append({str(c): _scalar(v) for c, v in zip(columns, row, strict=True)})
    return out


def _scalar(value: Any) -> Any:
    if isinstance(value, pd.Timestamp):
        if pd.isna(value):
            return None
        if value.tz is not None:
            return value.isoformat()
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    if isinstance(value, np.datetime64):
        return _scalar(pd.Timestamp(value)) if not np.isnat(value) else None
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        return None if not math.isfinite(float(value)) else float(value)
    if value is pd.NaT or value is None:
        return None
    return value


def _clean(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    return _scalar(obj)


# Writing ------------------------------------------------------------------------------------


def default_run_dir(config: RunConfig) -> Path:
    """``output.dir`` of the config, else ``runs/<name>`` in the working directory."""
    return Path(config.output.dir) if config.output.dir else Path("runs") / config.name


def write_run(result: RunResult, target: Path) -> Path:
    """Write the run directory `target` atomically (replacing an earlier run there).

    `target` may be absent, an empty directory or an earlier run directory of backtest
    (:mod:`backtest.rundir`); anything else is refused and left untouched.

    Returns
    -------
    pathlib.Path
        `target`.

    Raises
    ------
    backtest.errors.OutputError
        `target` is refused or cannot be written; nothing was touched.
    """
    from backtest.report import render_html, render_markdown
    from backtest.rundir import staging

    formats = set(result.config.output.formats)
    with staging(Path(target)) as tmp:
        (tmp / "config.yaml").write_text(result.config.to_yaml(), encoding="utf-8")
        text = json.dumps(result.results, indent=2, sort_keys=False, allow_nan=False)
        (tmp / "results.json").write_text(text + "\n", encoding="utf-8")
        levels = result.levels.copy()
        levels.attrs = {}
        levels.to_parquet(tmp / "levels.parquet")
        tables = tmp / "tables"
        tables.mkdir()
        for name, frame in result.tables.items():
            frame = frame.copy()
            frame.attrs = {}
            if "csv" in formats:
                frame.to_csv(tables / f"{name}.csv", index=False)
            if "parquet" in formats:
                frame.to_parquet(tables / f"{name}.parquet", index=False)
        if "md" in formats:
            (tmp / "summary.md").write_text(render_markdown(result.results), encoding="utf-8")
        if "html" in formats:
            (tmp / "report.html").write_text(render_html(tmp), encoding="utf-8")
    return target
