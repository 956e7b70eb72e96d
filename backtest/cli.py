"""Command-line interface: ``backtest``.

Exit codes: 0 success (the run is complete), 1 a runtime failure (download, offline,
corrupt cache, disk full) or an internal error, 2 bad input (unknown series, bad dates
or options, a refused ``--out``, a damaged run directory), 130 interrupted (Ctrl-C).

Everything printed that comes from the user (ids, titles, labels, paths, messages) goes
to Rich as plain :class:`rich.text.Text`, never as markup: ``[/x]`` prints as typed. No
Python traceback reaches the user; set ``BACKTEST_DEBUG=1`` to see the one behind an
internal error.
"""

from __future__ import annotations

import gc
import os
import sys
import traceback
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, cast

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from backtest import __version__
from backtest.errors import (
    BacktestError,
    BacktestWarning,
    ConfigError,
    DataValidationError,
    OutputError,
    UnknownSeriesError,
)

__all__ = ["app", "main", "run"]

app = typer.Typer(
    name="backtest",
    help="Market-reaction event studies and trading-rule backtests.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(help="Inspect, load and fetch market data.", no_args_is_help=True)
app.add_typer(data_app, name="data")
strategies_app = typer.Typer(help="Strategy plugins.", no_args_is_help=True)
app.add_typer(strategies_app, name="strategies")
config_app = typer.Typer(help="Run configs: their schema.", no_args_is_help=True)
app.add_typer(config_app, name="config")

out = Console(highlight=False, soft_wrap=False, width=160)
err = Console(stderr=True, highlight=False, soft_wrap=True)  # messages never re-wrapped


class _State:
    quiet = False


class _InterruptedError(Exception):
    """Ctrl-C during a command, with what it left behind (typer turns a bare
    KeyboardInterrupt into exit code 130 without a word)."""


def _t(value: object, style: str = "") -> Text:
    """`value` as plain text for Rich: brackets and colons print as they are."""
    return Text(str(value), style=style)


def _say(label: str, style: str, message: object) -> None:
    err.print(Text.assemble((f"{label}:", style), " ", str(message)))


def _version(value: bool) -> None:
    if value:
        out.print(f"backtest {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
) -> None:
    """Market-reaction event studies and trading-rule backtests."""
    _State.quiet = quiet


CatalogOpt = Annotated[
    list[Path] | None,
    typer.Option("--catalog", help="Extra catalog YAML file with user series (repeatable)."),
]
CacheOpt = Annotated[
    Path | None, typer.Option("--cache-dir", help="Cache directory (default ~/.cache/backtest).")
]
OfflineOpt = Annotated[
    bool | None,
    typer.Option(
        "--offline/--online",
        help="Never touch the network / always try it (default: detect).",
        show_default=False,
    ),
]


def _loader(catalog: list[Path] | None, cache_dir: Path | None, offline: bool | None):
    from backtest import data

    return data.DataLoader(data.catalog(*(catalog or [])), cache=cache_dir, offline=offline)


def _progress() -> Progress:
    """A transient progress display on stderr; silent with --quiet."""
    return Progress(
        TextColumn("{task.description}", style="bold", markup=False),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err,
        disable=_State.quiet,
        transient=True,
    )


def _fmt(value: float) -> str:
    import pandas as pd

    return "" if pd.isna(value) else f"{value:,.4f}".rstrip("0").rstrip(".")


@data_app.command("list")
def data_list(
    catalog: CatalogOpt = None,
    cache_dir: CacheOpt = None,
    offline: OfflineOpt = None,
) -> None:
    """List the catalog with the history available locally (cache or bundled snapshot).

    Never touches the network; --offline/--online are accepted for symmetry.
    """
    loader = _loader(catalog, cache_dir, True)
    table = Table(title="backtest series (local history)", title_justify="left")
    table.add_column("name", style="bold")
    for col in ("source", "unit", "observed", "first", "last"):
        table.add_column(col)
    table.add_column("last value", justify="right")
    table.add_column("from")
    table.add_column("held as")
    for name, spec in loader.catalog.items():
        src = spec.default
        observed = f"{src.obs_time:%H:%M} {src.timezone}"
        held = _held_as(spec.instrument)
        try:
            got = loader.local(name)
        except BacktestError as exc:
            _row(table, name, src.key, spec.unit, observed, "", "", "", f"error: {exc}", held)
            continue
        if got is None or got.data.empty:
            _row(table, name, src.key, spec.unit, observed, "", "", "", "not available", held)
            continue
        s = got.data
        _row(
            table,
            name,
            src.key,
            spec.unit,
            observed,
            f"{s.index[0]:%Y-%m-%d}",
            f"{s.index[-1]:%Y-%m-%d}",
            _fmt(s.iloc[-1]),
            got.origin,
            held,
        )
    out.print(table)


def _held_as(instrument: Any) -> str:
    """What a position in a series earns, in a few words (``bond 10y USD``)."""
    if instrument is None:
        return "not declared"
    if instrument.kind == "bond":
        return f"bond {instrument.maturity:g}y {instrument.currency or ''}".strip()
    if instrument.kind == "fx":
        return f"fx {instrument.base}/{instrument.quote} + carry"
    if instrument.kind == "index":
        return f"index {instrument.currency or ''} (price)".replace("  ", " ")
    return "untradable" + (f" (proxy {instrument.proxy})" if instrument.proxy else "")


@data_app.command("show")
def data_show(
    names: Annotated[list[str], typer.Argument(help="Catalog names, e.g. UST10Y JGB10Y USDJPY.")],
    start: Annotated[str | None, typer.Option(help="First date (YYYY-MM-DD).")] = None,
    end: Annotated[str | None, typer.Option(help="Last date (YYYY-MM-DD).")] = None,
    source: Annotated[
        str | None, typer.Option(help="Provider to use instead of each default.")
    ] = None,
    rows: Annotated[int, typer.Option(help="Show at most this many latest rows.")] = 20,
    catalog: CatalogOpt = None,
    cache_dir: CacheOpt = None,
    offline: OfflineOpt = None,
) -> None:
    """Show series' levels and per-observation changes side by side, each in its unit.

    Each series keeps its own observation dates (a blank cell: no observation that
    day); a change is from the series' previous observation, in bp for yields and %
    log for prices.
    """
    import pandas as pd

    from backtest.data import REACTION_UNITS, reactions, to_frame
    from backtest.data.loader import parse_date

    first, last = parse_date(start, "--start"), parse_date(end, "--end")  # before any work
    if first is not None and last is not None and first > last:
        raise DataValidationError(f"--start {first:%Y-%m-%d} is after --end {last:%Y-%m-%d}")
    names = list(dict.fromkeys(names))  # a name given twice is shown once
    loader = _loader(catalog, cache_dir, offline)
    for name in names:
        loader.catalog[name]  # unknown names fail before any loading
    shown = []
    for name in names:
        got = loader.load_series(name, first, last, prefer=source, history=True)
        full = to_frame([got])
        changes = reactions(full)[name]  # whole history: the first row shown has its change
        shown.append((got, full[name].loc[first:].dropna(), changes))
    table = Table(show_edge=False)
    table.add_column("date")
    for got, _, _ in shown:
        src = got.source
        out.print(
            Text.assemble(
                (got.name, "bold"),
                f" {got.spec.description} | {src.key} ({src.origin}) | "
                f"{got.spec.unit}, observed {src.obs_time:%H:%M} {src.timezone} | "
                f"from {got.origin}",
            )
        )
        unit = REACTION_UNITS[got.spec.kind]
        level = "level" if len(shown) == 1 else f"{got.name} ({got.spec.unit})"
        change = f"change ({unit})" if len(shown) == 1 else f"{got.name} change ({unit})"
        table.add_column(_t(level), justify="right")
        table.add_column(_t(change), justify="right")
    dates = pd.DatetimeIndex(sorted(set().union(*(levels.index for _, levels, _ in shown))))
    tail = dates[-rows:] if rows > 0 else dates
    for day in tail:
        cells = [f"{day:%Y-%m-%d}"]
        for _, levels, changes in shown:
            if day not in levels.index:
                cells += ["", ""]
                continue
            move = changes.get(day)
            cells += [_fmt(levels.at[day]), "" if pd.isna(move) else f"{move:+.2f}"]
        _row(table, *cells)
    out.print(table)
    for got, levels, _ in shown:
        span = (
            f"{len(levels)} observations, {levels.index[0]:%Y-%m-%d} to {levels.index[-1]:%Y-%m-%d}"
            if len(levels)
            else "no observations"
        )
        out.print(_t(span if len(shown) == 1 else f"{got.name}: {span}"))


@data_app.command("fetch")
def data_fetch(
    names: Annotated[list[str], typer.Argument(help="Catalog names to download.")],
    source: Annotated[
        str | None, typer.Option(help="Provider to use instead of each default.")
    ] = None,
    refresh: Annotated[
        bool, typer.Option(help="Re-download the whole history (replaces corrupt files).")
    ] = False,
    catalog: CatalogOpt = None,
    cache_dir: CacheOpt = None,
    offline: OfflineOpt = None,
) -> None:
    """Download series (their missing tail, or all with --refresh) into the cache. Online."""
    loader = _loader(catalog, cache_dir, offline)
    for name in names:
        loader.catalog[name]  # unknown names fail before any download
    results = []
    with _progress() as progress:
        task = progress.add_task("fetching", total=len(names))
        for name in names:
            progress.update(task, description=f"fetching {name}")
            results.append(loader.fetch(name, prefer=source, refresh=refresh))
            progress.advance(task)
    for got in results:
        s = got.data
        out.print(
            _t(
                f"{got.name}: {got.source.key} {len(s)} rows to {s.index[-1]:%Y-%m-%d} "
                f"-> {got.path}"
            )
        )


@strategies_app.command("list")
def strategies_list() -> None:
    """List every discovered strategy (built-in and entry points) with its parameters."""
    from backtest.strategy import discover

    table = Table(title="strategies", title_justify="left", show_lines=True)
    for col in ("name", "source", "parameters", "idea"):
        table.add_column(col, overflow="fold")
    broken = 0
    for name, found in discover().items():
        if found.cls is None:
            broken += 1
            _row(
                table,
                name,
                found.source,
                "",
                _t(f"failed to load: {type(found.error).__name__}: {found.error}", "red"),
            )
            continue
        fields = found.cls.Params.model_fields
        params = "\n".join(
            f"{key}: {_type_name(f.annotation)} = {f.default!r}"
            if not f.is_required()
            else f"{key}: {_type_name(f.annotation)} (required)"
            for key, f in fields.items()
        )
        _row(table, name, found.source, params or "(none)", found.cls.describe())
    out.print(table)
    if broken:
        _say("warning", "yellow", f"{broken} strategy plugin(s) failed to load (listed above)")


@app.command("new-strategy")
def new_strategy_command(
    name: Annotated[str, typer.Argument(help="Strategy name, e.g. demo_rule.")],
    directory: Annotated[
        Path | None,
        typer.Option(
            "--dir",
            help="Directory to create (default ./NAME); absent or empty, never overwritten.",
        ),
    ] = None,
) -> None:
    """Write a strategy plugin package (entry point, Params, positions, contract test)."""
    from backtest.scaffold import class_name, new_strategy

    target = new_strategy(name, directory)
    out.print(_t(f"wrote strategy plugin {name!r} ({class_name(name)}) to {target}"))
    out.print(_t(f"next: pip install -e {target}  # then: backtest strategies list; pytest"))


def _row(table: Table, *cells: object) -> None:
    """Add a row of plain-text cells (user text is never Rich markup)."""
    table.add_row(*(c if isinstance(c, Text) else _t(c) for c in cells))


def _type_name(annotation: object) -> str:
    if isinstance(annotation, type):
        return annotation.__name__
    return str(annotation).replace("typing.", "")


@config_app.command("schema")
def config_schema_command() -> None:
    """Print the JSON Schema of a run config (each key with its type, default and meaning).

    Editors validate YAML against it: save it (``docs/config.schema.json`` holds a copy)
    and point yaml-language-server at it.
    """
    from backtest.docs_gen import schema_text

    sys.stdout.write(schema_text())  # plain JSON, never styled or re-wrapped
    sys.stdout.flush()


@app.command("run")
def run_command(
    config: Annotated[
        Path, typer.Argument(help="Run config (YAML), e.g. configs/april_2025_selloff.yaml.")
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Run directory (overrides output.dir): absent, empty, or an earlier run "
            "directory (replaced); anything else is refused.",
        ),
    ] = None,
    offline: Annotated[
        bool, typer.Option("--offline", help="Never touch the network (sets data.offline).")
    ] = False,
    engine: Annotated[
        str | None, typer.Option("--engine", help="local or dask (sets execution.engine).")
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", help="Dask scheduler address, e.g. tcp://host:8786."),
    ] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", help="Workers of an embedded Dask cluster.")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
) -> None:
    """Run a config: data -> event study -> strategies -> report, into a run directory."""
    if quiet:
        _State.quiet = True
    written: list[Path] = []
    try:
        _run(config, out, offline, engine, scheduler, workers, written)
    except KeyboardInterrupt:
        if not written:
            raise _InterruptedError("interrupted; nothing written") from None
        raise _InterruptedError(f"interrupted; the run was written to {written[0]}") from None


def _run(
    config: Path,
    out: Path | None,
    offline: bool,
    engine: str | None,
    scheduler: str | None,
    workers: int | None,
    written: list[Path],
) -> None:
    """The work of ``backtest run``; every check of the input comes before computation.

    `written` receives the run directory once it is in place.
    """
    from backtest.engine import precompile

    if precompile.wants_kernels(config) and precompile.start():  # a cold numba cache:
        precompile.share()  # the child and this process split the simulation's compile
    from backtest.config import load_config
    from backtest.execution import check_scheduler

    overrides: dict[str, object] = {}
    if offline:
        overrides["data.offline"] = True
    if out is not None:
        overrides["output.dir"] = str(out.resolve())
    if engine is not None:
        overrides["execution.engine"] = engine
    if scheduler is not None:
        overrides["execution.scheduler"] = check_scheduler(scheduler, "--scheduler")
        overrides.setdefault("execution.engine", "dask")
    if workers is not None:
        overrides["execution.workers"] = workers
    cfg = load_config(config, overrides)
    from backtest.engine import warm_up
    from backtest.execution import executor
    from backtest.pipeline import default_run_dir, run, validate_config, write_run
    from backtest.rundir import check_output

    validate_config(cfg, config)  # series, events files, strategies: before any work
    target = check_output(default_run_dir(cfg))  # before any work: nothing is touched
    with _progress() as progress:
        stages = [
            "loading data",
            "loading events",
            "running the event study",
            "assembling results",
            *(f"strategy {sc.name}" for sc in cfg.strategies),
            "writing the report",
        ]  # fmt: skip
        task = progress.add_task(stages[0], total=len(stages))
        chunks: TaskID | None = None  # a second bar for the chunks of the current stage

        def task_done(task_id: TaskID) -> float:
            return progress.tasks[task_id].completed

        def step(stage: str) -> None:
            nonlocal chunks
            done = stages.index(stage) if stage in stages else task_done(task)
            progress.update(task, description=stage, completed=done)
            if chunks is not None:
                progress.remove_task(chunks)
                chunks = None

        def tasks(stage: str, done: int, total: int) -> None:
            nonlocal chunks
            if chunks is None:
                chunks = progress.add_task(f"  {stage}: tasks", total=total)
            progress.update(chunks, completed=done, total=total)

        ex = cfg.execution
        with executor(
            ex.engine,
            scheduler=ex.scheduler,
            workers=ex.workers,
            memory_limit=ex.memory_limit,
            warmup=warm_up,
        ) as runner:
            where = runner.describe()
            if where.get("dashboard") and not _State.quiet:
                err.print(_t(f"Dask dashboard: {where['dashboard']} ({where['workers']} workers)"))
            result = run(
                cfg,
                config_path=config.resolve(),
                progress=step,
                executor=runner,
                tasks=tasks,
                validated=True,  # checked above, before the output and the cluster
            )
        step("writing the report")
        write_run(result, target)
        written.append(target)
        progress.update(task, completed=len(stages))
    _print_headline(result.results, target)


def _print_headline(results: dict, target: Path) -> None:
    from backtest.report.markdown import headline_notes, headline_table

    header, rows = headline_table(results)
    a, b = results["event_study"]["windows"][0]["window"]
    table = Table(
        title=_t(
            f"{results['run']['title'] or results['run']['name']}: CAR days {a:+d}..{b:+d} "
            "(*** p<0.01, ** p<0.05, * p<0.10)"
        ),
        title_justify="left",
    )
    for i, col in enumerate(header):
        table.add_column(_t(col), justify="left" if i == 0 else "right")
    for row in rows:
        _row(table, *row)
    out.print(table)
    for note in headline_notes(results):
        out.print(note, markup=False, highlight=False)
    report = target / "report.html"
    out.print(_t(f"report: {report if report.exists() else target / 'summary.md'}"))
    out.print(_t(f"run directory: {target}"))


@app.command("report")
def report_command(
    run_dir: Annotated[Path, typer.Argument(help="A run directory written by `backtest run`.")],
    html: Annotated[bool, typer.Option("--html", help="Also rebuild report.html.")] = False,
) -> None:
    """Print a run's Markdown summary (rebuilt from its results.json, checked first)."""
    from backtest.report import render_html, render_markdown
    from backtest.report.validate import load_results

    results = load_results(run_dir)  # refuses a damaged file, naming the field
    try:
        text = render_markdown(results)
        page = None
        if html:
            if not (run_dir / "levels.parquet").is_file():
                raise DataValidationError(
                    f"{run_dir / 'levels.parquet'}: missing; --html needs the levels the run "
                    "used (re-run the config to rebuild the run directory)"
                )
            page = render_html(run_dir)
    except (KeyError, IndexError, TypeError, ValueError, OSError) as exc:
        if isinstance(exc, BacktestError):
            raise
        raise DataValidationError(
            f"{run_dir}: the run directory is damaged and cannot be reported "
            f"({type(exc).__name__}: {exc})"
        ) from None
    sys.stdout.write(text)  # the Markdown as written, never re-wrapped or styled
    sys.stdout.flush()
    if page is not None:
        (run_dir / "report.html").write_text(page, encoding="utf-8")


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    label = "warning" if issubclass(category, BacktestWarning) else category.__name__
    _say(label, "yellow", message)


def _internal_error(exc: BaseException) -> int:
    """Last resort: one line and a hint; the traceback only with BACKTEST_DEBUG=1."""
    if os.environ.get("BACKTEST_DEBUG", "").strip() not in ("", "0"):
        err.print(_t("".join(traceback.format_exception(exc)).rstrip()))
    _say("internal error", "red", f"{type(exc).__name__}: {exc}")
    err.print(
        _t(
            "This is a bug in backtest, not in your input: please report it with the output "
            "of the same command run with BACKTEST_DEBUG=1."
        )
    )
    return 1


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with `argv` (default ``sys.argv[1:]``) and return the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    previous = warnings.showwarning
    warnings.showwarning = _show_warning
    try:
        code = app(args=args, prog_name="backtest", standalone_mode=False)
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.TyperException as exc:  # usage errors (typer vendors click's exceptions)
        cast(Any, exc).show()
        return int(cast(Any, exc).exit_code)
    except typer.Abort:
        err.print("aborted")
        return 1
    except _InterruptedError as exc:
        _say("error", "red", exc)
        return 130
    except KeyboardInterrupt:
        _say("error", "red", "interrupted")
        return 130
    except (UnknownSeriesError, DataValidationError, ConfigError, OutputError) as exc:
        _say("error", "red", exc)
        return 2
    except BacktestError as exc:
        _say("error", "red", exc)
        return 1
    except OSError as exc:  # disk full, permission denied while writing...: not a bug
        _say("error", "red", exc)
        return 1
    except Exception as exc:
        return _internal_error(exc)
    finally:
        warnings.showwarning = previous
    if code == 130:  # typer's answer to a KeyboardInterrupt outside `backtest run`
        _say("error", "red", "interrupted")
        return 130
    return 0


def run() -> None:
    """Console-script entry point."""
    code = main()
    # Leaving: the interpreter's teardown frees what is left, and its cyclic garbage
    # collections would walk the whole heap again (~0.9 s after a run). Cyclic garbage
    # is collected now (finalizers run); the rest is left to reference counting.
    gc.collect()
    gc.freeze()
    sys.exit(code)
