# The two commands of the README: `make up` runs the system, `make test` runs the checks and tests.
# Both build .venv from pyproject.toml first, so they work on a fresh clone.
# `make test-all` runs the tests under every Python the project admits, each in
# its own .venv-3.X (the interpreter from pyenv, or python3.X on PATH).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := .installed-$(shell $(PYTHON) -c 'import hashlib,sys; print(hashlib.sha256(open("pyproject.toml","rb").read()).hexdigest()[:12])')
STAMP := $(VENV)/$(INSTALLED)
PYTHONS ?= 3.11 3.12 3.13
PYENV_ROOT ?= $(HOME)/.pyenv

# The interpreter for Python $(1): the newest pyenv $(1).x, else python$(1) on PATH.
python_for = $(or $(lastword $(sort $(wildcard $(PYENV_ROOT)/versions/$(1).*/bin/python$(1)))),$(shell command -v python$(1) 2>/dev/null))

.PHONY: up test install bench test-all

$(STAMP):
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

up: $(STAMP)
	$(BIN)/grievance up $(ARGS)

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest $(PYTEST_ARGS)

.venv-%/$(INSTALLED):
	$(or $(call python_for,$*),$(error no Python $* found in $(PYENV_ROOT)/versions or on PATH)) -m venv .venv-$*
	.venv-$*/bin/pip install --quiet --upgrade pip
	.venv-$*/bin/pip install --quiet -e '.[dev]'
	rm -f .venv-$*/.installed-*
	touch $@

# One Python: `make test-3.13` (PYTEST_ARGS as for `make test`).
test-%: .venv-%/$(INSTALLED)
	.venv-$*/bin/pytest $(PYTEST_ARGS)

# The stamps are real files, not intermediates make may delete after the run.
.PRECIOUS: .venv-%/$(INSTALLED)

# Every admitted Python in turn; stops at the first that fails.
test-all: $(foreach v,$(PYTHONS),test-$(v))

bench: $(STAMP)
	$(BIN)/python -m benchmarks.lifecycle $(ARGS)
