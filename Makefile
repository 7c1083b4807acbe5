# The README's commands. `make run` and `make test` each set up everything they need
# from the project's own files: a virtualenv from requirements.lock (generated from
# pyproject.toml's dependencies and groups by `make lock`) and the CDK CLI from package.json.

# The Python the tests run on is the one Lambda runs (infra/constructs/bundling.py).
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
# pip builds the Lambda asset's wheels for Lambda's platform (infra/constructs/bundling.py).
PIP_VERSION := 26.3
# The installer: uv at the version requirements.lock pins installs exactly the lock.
UV_VERSION := $(shell sed -n 's/^uv==//p' requirements.lock)
# `make run CONTEXT='-c stage=prod'`: CDK context over cdk.json's, as `npx cdk synth -c`.
CONTEXT ?=
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# MkDocs' theme prints a notice about its successor on every build.
export NO_MKDOCS_2_WARNING := 1

.PHONY: setup browser run test test-fast test-unit test-integration test-infra test-local bench soak figures-tests \
	lint format synth deploy diff lock clean docs docs-serve

setup: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: requirements.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "make: no $(PYTHON): the tests run on Lambda's Python (README, The two commands)" >&2; exit 1; }
	@echo "==> $(VENV): the Python packages requirements.lock pins (first run, or after the lock changes)"
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(VENV)/bin/uv pip sync --python $(PY) requirements.lock
	$(VENV)/bin/uv pip install --python $(PY) --no-deps --editable . pip==$(PIP_VERSION)
	touch $@

node_modules/.installed: package.json package-lock.json
	@echo "==> node_modules: the CDK CLI and axe-core package-lock.json pins"
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The console's browser tests drive Debian's chromium through its chromedriver (no browser
# build can be downloaded: docs/decisions/0062-the-console-page-is-tested-with-selenium.md).
# Installed when missing, as root (CI runs as root); anyone else is told the command.
BROWSER_PACKAGES := chromium chromium-driver
browser:
	@if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then \
	  echo "make: the console's browser tests need chromium and chromedriver; install them as root:" >&2; \
	  echo "  apt-get update && apt-get install -y $(BROWSER_PACKAGES)" >&2; \
	  exit 1; \
	fi; \
	echo "==> $(BROWSER_PACKAGES): the browser of the console's tests (apt-get, first run)"; \
	apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $(BROWSER_PACKAGES)

## run: the local cloud: the synthesized stack on moto, served on 127.0.0.1 (Ctrl-C stops it)
run: setup
	$(PY) -m infra.local.cloud $(CONTEXT)

## test: lint, then every test suite (what CI runs)
test: setup browser lint
	$(PY) -m pytest $(PYTEST_ARGS)

## test-fast: the tests a developer runs on every change (no moto stack, synth or local cloud)
test-fast: setup
	$(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

## test-unit, test-integration, test-infra, test-local: one suite each (tests/<suite>/)
test-unit: setup
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

test-integration: setup
	$(PY) -m pytest tests/integration $(PYTEST_ARGS)

test-infra: setup
	$(PY) -m pytest tests/infra $(PYTEST_ARGS)

test-local: setup browser
	$(PY) -m pytest tests/local $(PYTEST_ARGS)

## bench: benchmarks beside baselines measured in the same run; prints the table, writes .cache/bench.json
bench: setup browser
	$(PY) -m tests.bench

## soak: thousands of signed webhooks through the local cloud, then a reconciliation; SOAK_DELIVERIES sizes it
soak: setup
	$(PY) -m tests.local.soak

## figures-tests: `make test`, recording each suite's counts and time and the whole run's into docs/figures/tests.json
# Run it in a clean clone (as CI does) for the figure with set-up included, then commit the
# file: CI's own run is not committed. tests/suite_figures.py is the pytest plugin.
figures-tests:
	@clean=$$(test -e $(VENV)/.installed && echo false || echo true); start=$$(date +%s); \
	rm -f .cache/tests.json; status=0; TEST_FIGURES=.cache/tests.json $(MAKE) test || status=$$?; \
	test -e .cache/tests.json || exit $$status; \
	$(PY) -m tests.suite_figures .cache/tests.json --make-seconds $$(( $$(date +%s) - start )) --clean-clone $$clean \
	  && mv .cache/tests.json docs/figures/tests.json; \
	exit $$status

## lint: ruff (style and common bugs), then mypy (types, configured in pyproject.toml)
lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

## docs: the documentation site into site/, strict: a broken link, a missing reference or a snippet's missing file fails
docs: $(VENV)/.installed
	$(VENV)/bin/mkdocs build --strict --site-dir site

## docs-serve: the documentation site on http://127.0.0.1:8008, rebuilt when a page or the code changes
docs-serve: $(VENV)/.installed
	$(VENV)/bin/mkdocs serve --dev-addr 127.0.0.1:8008 --watch functions --watch events

format: $(VENV)/.installed
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

synth: setup
	npx cdk synth --quiet $(CONTEXT)

diff: setup
	npx cdk diff $(CONTEXT)

deploy: setup
	npx cdk deploy $(CONTEXT)

## lock: re-resolve pyproject.toml's groups into requirements.lock
lock:
	rm -rf .cache/lock-venv
	$(PYTHON) -m venv .cache/lock-venv
	.cache/lock-venv/bin/python -m pip install --quiet pip==$(PIP_VERSION)
	.cache/lock-venv/bin/python -m pip install --quiet . --group infra --group dev
	{ echo "# Generated by 'make lock' from pyproject.toml's dependencies and dependency groups; do not edit."; \
	  .cache/lock-venv/bin/python -m pip freeze --all --exclude pip --exclude action-scheduler-aws; } > requirements.lock
	rm -rf .cache/lock-venv

clean:
	rm -rf $(VENV) node_modules cdk.out .cache .pytest_cache .ruff_cache .mypy_cache site
