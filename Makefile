# Quantdesk: `make run` serves the dashboard, `make test` runs the suite. Nothing else by hand.
SHELL := /bin/bash
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
PORT ?= 8501
export HF_HUB_OFFLINE ?= 1
export TRANSFORMERS_OFFLINE ?= 1

.PHONY: run test test-fast check-artifacts bench setup setup-dev models chromium postgres clean help

help:
	@echo "make run    set up .venv, data dirs and default models, serve http://localhost:$(PORT)"
	@echo "make test   set up .venv with dev extras, Chromium and PostgreSQL, run the whole suite"
	@echo "make test-fast    the suite without browser, slow and artifact checks (local work)"
	@echo "make check-artifacts  the committed models still record what the README says"
	@echo "make bench  run the benchmarks under benchmarks/"

$(BIN)/python:
	@command -v $(PY) >/dev/null || { echo "Python 3.11 is required ($(PY) not found)"; exit 1; }
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml requirements.lock
	$(BIN)/pip install -q -c requirements.lock -e . --config-settings editable_mode=compat
	@touch $@

$(DEV_STAMP): $(STAMP)
	$(BIN)/pip install -q -c requirements.lock -e '.[dev]' --config-settings editable_mode=compat
	@touch $@

setup: $(STAMP)
	@mkdir -p data/cache data/uploads && chmod 700 data/cache
	$(BIN)/quantdesk init

setup-dev: $(DEV_STAMP) chromium postgres
	@mkdir -p data/cache data/uploads && chmod 700 data/cache

chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  echo "Installing Debian chromium for the browser tests"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; \
	fi

# the store tests start a throwaway PostgreSQL server (tests/pg.py) from Debian's server binaries
postgres:
	@if ! ls /usr/lib/postgresql/*/bin/initdb /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then \
	  echo "Installing Debian postgresql for the PostgreSQL store tests"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq postgresql >/dev/null; \
	fi

# `streamlit run app.py` with the background warm-up started at server start, closed tabs'
# sessions shut down and the allocator set for it (ui/warmup.py, docs/deploy.md)
run: setup
	$(BIN)/python -m ui.warmup run app.py --server.port $(PORT)

# unit/app tests on 2 workers, then the browser tests on their own (each starts a server
# and Chromium; two at once on a 2-core machine time out)
test: setup-dev
	$(BIN)/python -m pytest -n 2 --dist loadfile -m "not e2e"
	$(BIN)/python -m pytest -m e2e

# local work: no browser, no model training on real history, no artifact checks
test-fast: setup-dev
	$(BIN)/python -m pytest -n 2 --dist loadfile -m "not e2e and not slow and not artifacts"

check-artifacts: setup-dev
	$(BIN)/python -m pytest -m artifacts

bench: setup
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) data/cache
