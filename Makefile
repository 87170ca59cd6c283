# LA Lens: `make run` serves the app, `make test` runs every test. Both create .venv on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_VERBOSITY := error

.PHONY: run test test-fast bench chromium clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Stamp files make the installs idempotent: pip runs again only when a requirements file changes.
$(VENV)/.runtime: requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.runtime
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

run: $(VENV)/.runtime
	$(PY) serve.py

test: $(VENV)/.dev chromium
	$(PY) -m pytest

# Unit and AppTest only (no browser).
test-fast: $(VENV)/.dev
	$(PY) -m pytest -m "not e2e"

bench: $(VENV)/.dev chromium
	$(PY) -m bench

# Browser tests use Debian's chromium; install it when missing and we may (root with apt-get).
chromium:
	@sh scripts/ensure-chromium.sh

clean:
	rm -rf $(VENV) tests/artifacts .pytest_cache
