# The README's commands. `make run` and `make test` each set up everything they need
# from the project's own files: a virtualenv from requirements.lock (generated from
# pyproject.toml's dependency groups by `make lock`) and the CDK CLI from package.json.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP_VERSION := 26.3
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: setup run test lint format synth deploy diff lock clean

setup: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet pip==$(PIP_VERSION)
	$(PY) -m pip install --quiet --requirement requirements.lock
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

## run: synthesize and check the stack, then replay every sample webhook through it on moto
run: setup
	$(PY) -m infra.local.samples

## test: lint, then every test suite
test: setup lint
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.installed
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

synth: setup
	npx cdk synth --quiet

diff: setup
	npx cdk diff

deploy: setup
	npx cdk deploy

## lock: re-resolve pyproject.toml's groups into requirements.lock
lock:
	rm -rf .cache/lock-venv
	$(PYTHON) -m venv .cache/lock-venv
	.cache/lock-venv/bin/python -m pip install --quiet pip==$(PIP_VERSION)
	.cache/lock-venv/bin/python -m pip install --quiet --group runtime --group infra --group dev
	.cache/lock-venv/bin/python -m pip freeze --all --exclude pip > requirements.lock
	rm -rf .cache/lock-venv

clean:
	rm -rf $(VENV) node_modules cdk.out .cache .pytest_cache .ruff_cache
