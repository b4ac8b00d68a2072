# Every target builds its own virtual environment on first use (python3 -m venv .venv and
# pip install -e '.[dev]'); the stamp file makes later runs skip that step until
# pyproject.toml changes.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.ionto-installed

.PHONY: all venv run test lint pytest bench format clean

all: test

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

venv: $(STAMP)

run: $(STAMP)
	@mkdir -p out
	$(BIN)/ionto plan examples/plans/lidocaine-forearm.toml --report out/report.html \
		--pdf out/report.pdf --scenario out/scenario.toml

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy src

pytest: $(STAMP)
	$(BIN)/pytest

test: lint pytest

bench: $(STAMP)
	@$(BIN)/python -m compileall -q src >/dev/null
	$(BIN)/python benchmarks/run.py R1
	$(BIN)/python benchmarks/run.py R2 --repeat 1
	$(BIN)/python benchmarks/plan_predict.py --repeat 1

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf out build dist .pytest_cache .mypy_cache .ruff_cache src/*.egg-info
