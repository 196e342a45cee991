# Entry points for a fresh machine: `make demo`, `make check` (the fast unit tier) and
# `make test` (the full suite, what CI runs).
# Each creates .venv when it is missing. torch is installed first, from $(TORCH) (the CPU build),
# so nothing later can pull a multi-GB CUDA build. On the project's machines pip finds the CPU
# wheel on local disk; elsewhere run e.g.
#   make test TORCH_INDEX=https://download.pytorch.org/whl/cpu
PY ?= $(shell command -v python3.11 || command -v python3)
TORCH ?= torch==2.13.0
TORCH_INDEX ?=
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo check test clean browser

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX)) '$(TORCH)'
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/scenefit demo

# Unit tests only: no model weights (`slow`), no servers or subprocesses (`server`); the marks
# are explained in tests/conftest.py. No cache provider: nothing written into the checkout.
check: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider -m "not slow and not server"

test: $(STAMP) browser
	$(BIN)/python -m pytest -q

# The web page's browser test drives Debian's Chromium through playwright-core (no browser
# download). Without node, npm or chromium the test skips with the reason (outside CI).
browser:
	@if command -v npm >/dev/null; then npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: the browser test will skip"; fi

clean:
	rm -rf $(VENV) build .pytest_cache .scenefit tests/browser/node_modules
