# The two commands a newcomer types: `make demo` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

export PREFECT_LOGGING_LEVEL ?= WARNING
export PREFECT_SERVER_ANALYTICS_ENABLED ?= false

.PHONY: demo test system lint typecheck architecture pytest bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m devtools.demo

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

# The layers, the Prefect-free logic and the absence of import cycles: pyproject.toml's
# [tool.importlinter] contracts. (Module and function sizes: tests/test_layout.py, in pytest.)
architecture: $(STAMP)
	$(VENV)/bin/lint-imports --no-cache

# PostgreSQL, Chromium and poppler: installed as root, otherwise the command to run is printed.
system:
	@bash .ci/system-packages

# Two workers (pytest-xdist; one on a one-CPU machine), each with its own PostgreSQL and Prefect
# harness: tests/conftest.py. Which tests share a worker, and in what order: conftest.py.
pytest: $(STAMP) system
	$(VENV)/bin/pytest -n logical --maxprocesses 2

test: lint typecheck architecture pytest

bench: $(STAMP)
	$(PY) bench/import_members.py

clean:
	rm -rf $(VENV) campaign.db demo-out .pytest_cache .mypy_cache .ruff_cache
