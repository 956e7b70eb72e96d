# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo test lint docs bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python >= 3.11 is required, found " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,dask]'
	@touch $(STAMP)

demo: install
	$(BIN)/backtest run configs/april_2025_selloff.yaml --offline

lint: install
	$(BIN)/ruff check backtest strategies tests benchmarks data/events examples scripts
	$(BIN)/ruff format --check backtest strategies tests benchmarks data/events examples scripts
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest -q

# The documentation site (mkdocs.yml) into site/; make test builds it too
# (tests/docs/test_site.py), with the generated configuration reference checked fresh.
docs: install
	$(BIN)/python -m backtest.docs_gen --check
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

bench: install
	$(BIN)/python -m pip install --quiet -e '.[dev,dask,bench]'
	$(BIN)/python benchmarks/bench_data.py
	$(BIN)/python benchmarks/bench_eventstudy.py
	$(BIN)/python benchmarks/brown_warner.py --draws 1000
	$(BIN)/python benchmarks/brown_warner.py --draws 1000 --window 0 5
	$(BIN)/python benchmarks/bench_kernel.py
	$(BIN)/python benchmarks/bench_coldstart.py
	$(BIN)/python benchmarks/bench_strategies.py
	$(BIN)/python benchmarks/bench_dask.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build dist site *.egg-info
