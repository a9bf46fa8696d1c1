# Two entry points for a fresh clone: `make plan` (offline plan of the dev stack) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: plan plan-all test lint bench clean

# uv installs the same versions in seconds where pip takes one to two minutes; pip when uv cannot be had.
# Byte-compiled as pip does: the tests import the whole stack in every worker, and this machine's
# PYTHONDONTWRITEBYTECODE would otherwise make each process compile it again.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	if $(BIN)/pip install --quiet --disable-pip-version-check uv; then \
		$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -e '.[dev]'; \
	else \
		$(BIN)/pip install --quiet --upgrade pip && $(BIN)/pip install --quiet -e '.[dev]'; \
	fi
	touch $(STAMP)

plan: $(STAMP)
	$(BIN)/mlops plan --stack dev

plan-all: $(STAMP)
	$(BIN)/mlops plan --stack all

# The project's own modules are byte-compiled first, once: with PYTHONDONTWRITEBYTECODE set (as on this
# machine) every test worker and every subprocess a test starts would compile them again.
test: $(STAMP)
	$(BIN)/python -m compileall -q -j 0 components lambda_src mlops_cli mlops_spec tests > /dev/null
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python scripts/check_sizes.py

bench: $(STAMP)
	$(BIN)/python benchmarks/plan.py
	$(BIN)/python benchmarks/cli_startup.py
	$(BIN)/python benchmarks/api_cold_start.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
