# The course's commands. `make demo` and `make test` are the two a user needs; see README.md.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.stamp
HOST   ?= 127.0.0.1
PORT   ?=
RUN    ?=
LAB_PORT ?= 8888

.PHONY: help venv demo test test-fast lint format lab kernel tensorboard bench slides screenshots site clean hub-test

help:
	@echo "make demo         set up .venv, execute every notebook headless (both editions), write logs/ and build/"
	@echo "make test-fast    the check after an edit: unit, property and docs tests, no notebooks (about a minute)"
	@echo "make test         set up .venv, run every test (unit, property, notebooks, TensorBoard)"
	@echo "make lab          JupyterLab on notebooks/ at http://$(HOST):$(LAB_PORT)"
	@echo "COURSE_IMAGES=DIR make demo (or lab)   the lessons on your own photos in DIR (data/README.md)"
	@echo "make kernel       register .venv as the Jupyter kernel 'Python 3 (pooling course)' (VS Code, your own Jupyter)"
	@echo "make tensorboard  TensorBoard on logs/ at http://$(HOST):6006 (or the next free port)"
	@echo "                  RUN=logs_maxpool (or RUN=\"logs_maxpool logs_avgpool\"): only those runs"
	@echo "make bench        speed ratios measured side by side (see README, Benchmark)"
	@echo "make site         the course website from make demo's notebooks: build/site/index.html (中文: build/site/zh-CN/)"
	@echo "make slides       projector decks (reveal.js, offline) from what make demo ran, in build/slides/ (中文: zh-CN/)"
	@echo "make screenshots  TensorBoard views the lessons show, from logs/ (after make demo), into notebooks/images/tensorboard/"
	@echo "make lint         ruff on code and notebooks"
	@echo "make format       ruff format + fixes on utils/ tests/ tools/ (utils/ is measured formatted: no cap breaks)"
	@echo "make clean        remove build/ and logs/ runs (keeps .venv)"
	@echo "make hub-test     a real JupyterHub on 127.0.0.1, N=5 students (N=10 make hub-test)"

# The virtual environment is made once and reinstalled only when a requirements file changes.
$(STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), "Python 3.10+ is needed, found " + sys.version.split()[0]'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade --quiet pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	COURSE_HEADLESS=1 $(PY) tools/run_notebooks.py --demo

# axe-core (npm) for the accessibility tests (tests/a11y.py), installed before they run: offline after.
AXE := build/axe/node_modules/axe-core/axe.min.js

$(AXE):
	npm install --prefix build/axe --no-audit --no-fund axe-core@4

test: $(STAMP) $(AXE)
	COURSE_HEADLESS=1 $(PY) -m pytest --durations=15

# Unit and property tests only (no notebooks, browser, servers, subprocesses); about a minute.
test-fast: $(STAMP)
	COURSE_HEADLESS=1 $(PY) -m pytest -q -n 2 --durations=15 -m "not notebooks and not browser and not slow"

lint: $(STAMP)
	$(PY) -m ruff check .

format: $(STAMP)
	$(PY) -m ruff format utils tests tools
	$(PY) -m ruff check --fix .

# jupyter/lab/settings/overrides.json: the course's JupyterLab defaults (no "Jupyter news" prompt, no
# update check: nothing is fetched from the internet). tests/test_jupyterlab.py runs this very command.
lab: $(STAMP)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/jupyter lab --ip=$(HOST) --port=$(LAB_PORT) --notebook-dir=notebooks \
		--LabApp.app_settings_dir=jupyter/lab/settings

# The course's .venv as a named kernel for any Jupyter front end (your own JupyterLab, VS Code, ...).
# The name is utils.environment.COURSE_KERNEL, which the wrong-kernel message tells students to pick.
kernel: $(STAMP)
	$(PY) -m ipykernel install --user --name pooling-course --display-name "Python 3 (pooling course)"

tensorboard: $(STAMP)
	$(PY) tools/serve_tensorboard.py --host $(HOST) $(if $(PORT),--port $(PORT)) $(if $(RUN),--run "$(RUN)")

bench: $(STAMP)
	$(PY) tools/bench.py

# Decks from the executed notebooks of `make demo` (build/notebooks/): nothing is executed again, no npm.
slides: $(STAMP)
	$(PY) tools/build_slides.py

# TensorBoard on logs/ (127.0.0.1, a free port) in headless Chromium; commit notebooks/images/tensorboard/.
screenshots: $(STAMP)
	$(PY) tools/screenshots.py

# The website (Sphinx + myst-nb) from the notebooks make demo executed; nothing runs twice.
site: $(STAMP)
	$(PY) tools/build_site.py

clean:
	rm -rf build
	find logs -mindepth 1 -maxdepth 1 ! -name README.md -exec rm -rf {} +

# A real JupyterHub on 127.0.0.1 with N simulated students (see README, Teaching a class).
N ?= 5
LESSON ?= notebooks/01_max_pooling.ipynb
CHP := build/hub/node_modules/.bin/configurable-http-proxy

$(CHP):
	npm install --prefix build/hub --no-audit --no-fund configurable-http-proxy@5

hub-test: $(STAMP) $(CHP)
	$(PY) tools/hub_test.py -n $(N) --lesson $(LESSON)
