# Every target builds its own virtual environment on first use (python3 -m venv .venv and
# pip install -e '.[dev]'); the stamp file makes later runs skip that step until
# pyproject.toml changes.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.ionto-installed

.PHONY: all venv pg run test lint pytest bench format clean

all: test

# After the install the package is byte-compiled (an environment with
# PYTHONDONTWRITEBYTECODE=1 would otherwise compile every module on every start: ~50 ms of a
# sub-second run) and every reference benchmark is validated once into the scenario cache
# (ionto bench NAME --prepare), so a timed `ionto bench NAME --json` starts without pint and
# pydantic even on its first run (the cache is keyed by the file and the validator's code).
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@$(BIN)/python -m compileall -q src >/dev/null
	@for f in benchmarks/*.toml; do $(BIN)/ionto bench $$f --prepare >/dev/null || exit 1; done
	@touch $@

venv: $(STAMP)

# The record tests start a private PostgreSQL server (tests/record/pg_server.py) from the
# server binaries of Debian's postgresql package, installed here when missing (as root;
# otherwise a note, and the PostgreSQL half of the record tests is skipped, or fails
# under CI=true). Quick and idempotent once installed.
PG_CTL := $(firstword $(wildcard /usr/lib/postgresql/*/bin/pg_ctl))

pg:
ifeq ($(PG_CTL),)
	@if [ "$$(id -u)" = 0 ]; then \
	  echo "installing PostgreSQL (Debian package postgresql) for the record tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	else \
	  echo "note: PostgreSQL is not installed; run 'sudo apt-get install postgresql' to test it"; \
	fi
endif

run: $(STAMP)
	@mkdir -p out
	$(BIN)/ionto plan examples/plans/lidocaine-forearm.toml --report out/report.html \
		--pdf out/report.pdf --scenario out/scenario.toml

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy src

pytest: $(STAMP) pg
	$(BIN)/pytest

test: pg lint pytest

bench: $(STAMP) pg
	@$(BIN)/python -m compileall -q src >/dev/null
	@for f in benchmarks/*.toml; do $(BIN)/ionto bench $$f --prepare >/dev/null || exit 1; done
	$(BIN)/python benchmarks/run.py R1
	$(BIN)/python benchmarks/run.py R2 --repeat 1
	$(BIN)/python benchmarks/run.py session
	$(BIN)/python benchmarks/record_import.py
	$(BIN)/python benchmarks/plan_predict.py --repeat 1

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf out build dist .pytest_cache .mypy_cache .ruff_cache src/*.egg-info
