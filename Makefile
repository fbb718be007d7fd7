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

# The class hub (make hub): a read-only class install in HUB_DIR, served on HUB_IP:HUB_PORT (loopback unless told).
HUB_DIR  ?= /srv/lpu-lab
HUB_IP   ?= 127.0.0.1
HUB_PORT ?= 8000

.PHONY: install lab test test-unit test-notebooks test-browser test-classroom exercises strip bench demo clean help \
        hub hub-stop hub-status

help:
	@echo "make lab    — install (first time only) and open the course in JupyterLab"
	@echo "make test   — install (first time only) and run the whole test suite"
	@echo "make bench  — run benches/ and write benches/REPORT.md"
	@echo "make demo   — lecturer dashboard (Voila) of the start notebook"
	@echo "make exercises — regenerate exercises/ from solutions/ (never over edited files unless FORCE=1)"
	@echo "make hub    — the class JupyterHub (root; docs/teaching.md); make hub-stop stops it"

# One install script for make install, the class hub and the Kubernetes image (tools/install.sh).
$(STAMP): pyproject.toml tools/install.sh
	PYTHON=$(PYTHON) tools/install.sh $(VENV)
	@touch $(STAMP)

install: $(STAMP)

lab: install
	@echo "Starting JupyterLab on 127.0.0.1:$(PORT) — open the URL printed below (with its token)."
	$(BIN)/jupyter lab --ip=127.0.0.1 --port=$(PORT) --no-browser --ServerApp.root_dir="$(CURDIR)" \
	    --LabApp.default_url=/lab/tree/notebooks/00_start_here.ipynb $(if $(filter 0,$(shell id -u)),--allow-root) \
	    --ServerApp.jpserver_extensions="{'notebook_shim': False}"

# Lint first (ruff, configured in pyproject.toml), then unit + property tests and every notebook under nbval (lax:
# only cells tagged NBVAL_CHECK_OUTPUT are compared), in parallel; --dist loadscope keeps a notebook on one kernel.
test: install
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n $(JOBS) --dist loadscope tests notebooks solutions exercises \
	    --nbval-lax --nbval-sanitize-with tests/nbval_sanitize.cfg -q

test-unit: install
	$(BIN)/python -m pytest tests -q -m "not browser"

test-browser: install
	$(BIN)/python -m pytest tests/test_browser.py -m browser -q

# The class hub, nbgrader loop, read-only shared kernels, two learners in the browser (part of `make test` too).
test-classroom: install
	$(BIN)/python -m pytest tests -m classroom -q

test-notebooks: install
	$(BIN)/python -m pytest -n $(JOBS) --dist loadscope notebooks solutions exercises --nbval-lax \
	    --nbval-sanitize-with tests/nbval_sanitize.cfg -q

exercises: install
	$(BIN)/python tools/make_exercises.py $(if $(FORCE),--force)

strip: install
	$(BIN)/python tools/strip_outputs.py notebooks/*.ipynb solutions/*.ipynb exercises/*.ipynb

# MAKE_TEST_SECONDS=… adds the measured `make test` time to the report.
bench: install
	$(BIN)/python benches/run_all.py $(if $(MAKE_TEST_SECONDS),--make-test-seconds $(MAKE_TEST_SECONDS))

# Lecturer dashboard: Voila renders the start tour (and any chapter) without code cells, on 127.0.0.1.
demo: install
	$(BIN)/python tools/demo.py --port $(DEMO_PORT)

# The class hub (needs root: every learner is a system user). Installs/updates the read-only class copy in HUB_DIR,
# starts JupyterHub in the background and prints the URL and the lecturer's password. docs/teaching.md.
hub: install
	$(BIN)/python tools/hub.py start --dir $(HUB_DIR) --ip $(HUB_IP) --port $(HUB_PORT)

hub-stop: install
	$(BIN)/python tools/hub.py stop --dir $(HUB_DIR)

hub-status: install
	$(BIN)/python tools/hub.py status --dir $(HUB_DIR)

clean:
	rm -rf $(VENV) test-artifacts .pytest_cache
	find . -name __pycache__ -prune -exec rm -rf {} +
