# LPU Lab — the two commands are `make lab` and `make test`; both set everything up first.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
# The install is redone only when the pins (pyproject.toml) change; otherwise it is a no-op.
STAMP  := $(VENV)/.installed
PORT   ?= 8888
DEMO_PORT ?= 8866
JOBS   ?= 2

.PHONY: install lab test test-unit test-notebooks test-browser exercises strip bench demo clean help

help:
	@echo "make lab    — install (first time only) and open the course in JupyterLab"
	@echo "make test   — install (first time only) and run the whole test suite"
	@echo "make bench  — run benches/ and write benches/REPORT.md"
	@echo "make demo   — lecturer dashboard (Voila) of the start notebook"
	@echo "make exercises — regenerate exercises/ from solutions/"

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; LPU Lab needs Python 3.11 (set PYTHON=...)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	$(BIN)/python -c "import labsim, time; t=time.perf_counter(); labsim.warmup(); print(f'numba warm-up: {time.perf_counter()-t:.1f} s')"
	@touch $(STAMP)

install: $(STAMP)

lab: install
	@echo "Starting JupyterLab on 127.0.0.1:$(PORT) — open the URL printed below (with its token)."
	$(BIN)/jupyter lab --ip=127.0.0.1 --port=$(PORT) --no-browser --ServerApp.root_dir="$(CURDIR)" \
	    --LabApp.default_url=/lab/tree/notebooks/00_start_here.ipynb $(if $(filter 0,$(shell id -u)),--allow-root)

# Unit + property tests, then every notebook under nbval (lax: only cells tagged NBVAL_CHECK_OUTPUT are
# compared), in parallel; --dist loadscope keeps each notebook's cells on one kernel.
test: install
	$(BIN)/python -m pytest -n $(JOBS) --dist loadscope tests notebooks solutions exercises \
	    --nbval-lax --nbval-sanitize-with tests/nbval_sanitize.cfg -q

test-unit: install
	$(BIN)/python -m pytest tests -q -m "not browser"

test-browser: install
	$(BIN)/python -m pytest tests/test_browser.py -m browser -q

test-notebooks: install
	$(BIN)/python -m pytest -n $(JOBS) --dist loadscope notebooks solutions exercises --nbval-lax \
	    --nbval-sanitize-with tests/nbval_sanitize.cfg -q

exercises: install
	$(BIN)/python tools/make_exercises.py

strip: install
	$(BIN)/python tools/strip_outputs.py notebooks/*.ipynb solutions/*.ipynb exercises/*.ipynb

# MAKE_TEST_SECONDS=… adds the measured `make test` time to the report.
bench: install
	$(BIN)/python benches/run_all.py $(if $(MAKE_TEST_SECONDS),--make-test-seconds $(MAKE_TEST_SECONDS))

# Lecturer dashboard: Voila renders the start tour (and any chapter) without code cells, on 127.0.0.1.
demo: install
	$(BIN)/python tools/demo.py --port $(DEMO_PORT)

clean:
	rm -rf $(VENV) test-artifacts .pytest_cache
	find . -name __pycache__ -prune -exec rm -rf {} +
