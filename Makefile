# Two commands on a fresh Debian machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# The demo needs the package alone; the tests add the dev extras.
DEMO_STAMP := $(VENV)/.demo-stamp
STAMP  := $(VENV)/.installed-stamp
HOST   ?= $(or $(HYPERTOOL_HOST),127.0.0.1)
PORT   ?= $(or $(HYPERTOOL_PORT),9464)

.PHONY: demo test lint unit e2e interop system-deps bundle bench dist clean

$(DEMO_STAMP): pyproject.toml constraints-dev.txt
	./scripts/install-system-deps.sh demo
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -e . -c constraints-dev.txt
	touch $(DEMO_STAMP)

$(STAMP): $(DEMO_STAMP) pyproject.toml constraints-dev.txt
	./scripts/install-system-deps.sh
	$(BIN)/pip install --quiet -e '.[dev]' -c constraints-dev.txt
	touch $(STAMP)

system-deps:
	./scripts/install-system-deps.sh

# The instrumentation libraries the interop tests run, each in an environment
# of its own (their pins conflict): every package pinned in
# tests/interop/envs/<name>.txt, installed with --no-deps (nothing to resolve).
INTEROP := .venv-interop
INTEROP_STAMPS := $(patsubst tests/interop/envs/%.txt,$(INTEROP)/%/.stamp,$(wildcard tests/interop/envs/*.txt))

$(INTEROP)/%/.stamp: tests/interop/envs/%.txt
	rm -rf $(INTEROP)/$*
	$(PYTHON) -m venv $(INTEROP)/$*
	$(INTEROP)/$*/bin/pip install --quiet --no-deps -r $<
	touch $@

## interop: the instrumentation libraries' environments (make test builds them)
interop: $(INTEROP_STAMPS)

## demo: the exporter fed with realistic traffic, with a local Prometheus and
## Alertmanager (installed from Debian packages when missing); prints the URLs.
## Port: PORT= or HYPERTOOL_PORT= (a taken port falls back to a free one).
demo: $(DEMO_STAMP)
	$(BIN)/hypertool-exporter demo --stack --host $(HOST) --port $(PORT)

## test: lint, then every test (unit and end-to-end with a real Prometheus)
test: $(STAMP) system-deps lint interop
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest tests/unit

e2e: $(STAMP) system-deps interop
	$(BIN)/pytest tests/e2e

## bundle: regenerate the README metric table, dashboards and rules
bundle: $(STAMP)
	$(BIN)/hypertool-exporter bundle build
	$(BIN)/python -m hypertool_exporter.model.price_database

## dist: a wheel of the package in dist/ (install it with pip install dist/*.whl)
dist: $(STAMP)
	$(BIN)/pip wheel --quiet --no-deps --wheel-dir dist .

clean:
	rm -rf $(VENV) $(INTEROP) .pytest_cache .ruff_cache .hypothesis dist
