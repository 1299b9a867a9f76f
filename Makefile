# "Transformers, under the hood": every target sets up what it needs first.
#   make lab          JupyterLab on your own copies of the notebooks in workspace/ (127.0.0.1, with a token)
#   make workspace    copy into workspace/ the notebooks you don't have yet; never overwrites one you have
#   make reset NB=3   keep your copy of notebook 03 as a dated backup (workspace/backups/), restore the course's
#   make test         unit tests + every notebook executed and compared by nbval + JupyterLab in a browser, offline
#   make portability  the notebooks under other CPU kernels, thread counts and a kit fine-tuned elsewhere: all green
#   make canary       the notebooks and exercise tests against the newest libraries on PyPI (throwaway venv)
#   make test-fast    contributors: the unit tests that need neither the kit nor a kernel (tests/conftest.py markers)
#   make lint         ruff + notebook cleanliness: the checks pre-commit runs (.pre-commit-config.yaml)
#   make course       instructors: execute every notebook (papermill), render HTML + index into build/;
#                     parameters as papermill's, e.g. make course PARAMS="-p SEED 1"
#   make site         the course as a website (Jupyter Book) in build/site/, from the notebooks make course
#                     executed (runs make course first only if they are missing or older than the lessons)
#   make setup        venv + pinned deps + helpers (editable); redone only when requirements change
#   make models       build the offline model kit into $(COURSE_CACHE)
#   make bench        speed and memory benchmark -> build/bench.json
#   make hub          instructors: the workshop's JupyterHub on 127.0.0.1:8000 (workshop/, README "Running a workshop")
#   make hub-sync     instructors, mid-class: copy new course files into every learner's folder (never overwrites)
#   make bench-hub    a class measured on this machine: memory per learner, start time, N learners at once

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.course-setup
export COURSE_CACHE ?= $(HOME)/.cache/transformers-course
COURSE_NOTEBOOKS ?= notebooks
WORKSPACE ?= workspace
PARAMS ?=

# Offline, quiet and reproducible: what tests, benchmarks and the course build run under.
OFFLINE_ENV := HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 COURSE_MODELS=local COURSE_THREADS=2 OMP_NUM_THREADS=2 \
	MKL_NUM_THREADS=2 TRANSFORMERS_VERBOSITY=error HF_HUB_DISABLE_PROGRESS_BARS=1 TOKENIZERS_PARALLELISM=false \
	PYDEVD_DISABLE_FILE_VALIDATION=1
# Matplotlib's inline backend, as in JupyterLab: plt.show() in a kernel stores the plot as an image, and the stored
# outputs nbval compares against must have been made the same way (never MPLBACKEND=Agg, under which plt.show()
# in a kernel shows nothing). Outside a kernel (pytest itself) this backend never opens a window.
TEST_ENV := $(OFFLINE_ENV) MPLBACKEND=module://matplotlib_inline.backend_inline
# Tests run TEST_WORKERS files at once (pytest-xdist; --dist loadfile keeps each notebook's cells in order in one
# worker, one kernel). Their torch threads then outnumber the cores, and OpenMP threads that spin while they wait
# (libgomp's default) would take the core the other thread needs: sleeping waiters change no result, only the waiting.
TEST_WORKERS ?= 2
PARALLEL_ENV := OMP_WAIT_POLICY=PASSIVE

.PHONY: setup models test portability canary test-fast lab bench workspace reset course lint hub hub-sync bench-hub site

setup: $(STAMP)

# torch_wheel.py (standard library only) prints one line saying which torch build pip gets (on Linux without an
# NVIDIA GPU, the CPU build if PyTorch's CPU index answers within seconds; otherwise PyPI's) and the pip arguments.
$(STAMP): requirements.txt constraints.txt helpers/pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@torch_args="$$($(PY) -I helpers/src/helpers/torch_wheel.py)" && set -x && \
	$(PY) -m pip install --quiet --disable-pip-version-check $$torch_args -r requirements.txt -c constraints.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e helpers
	@touch $@

models: setup
	$(PY) -m helpers.kit

# Where the time goes: the 40 slowest in the output, every test's time in build/test-results.xml (make bench reads it).
test: models
	@mkdir -p build
	$(TEST_ENV) $(PARALLEL_ENV) $(PY) -m pytest -p no:cacheprovider -rs -n $(TEST_WORKERS) --dist loadfile --durations=40 \
		--junitxml=build/test-results.xml tests $(COURSE_NOTEBOOKS) --nbval \
		--nbval-sanitize-with tests/sanitize.cfg --nbval-cell-timeout=600

# The notebooks under other CPU kernels (AVX2, generic), 1 and 3 threads, and a kit fine-tuned under the generic
# kernels: every run must pass (tests/portability.py; table in build/portability/report.md). About 20 minutes.
portability: models
	$(TEST_ENV) $(PARALLEL_ENV) $(PY) tests/portability.py

# The course against the newest transformers, tokenizers, torch and jupyterlab on PyPI (or CANARY="--pin
# transformers==5.25.0"), in a throwaway venv (build/canary/venv): report per notebook in build/canary/report.md.
CANARY ?=
canary: models
	$(TEST_ENV) $(PARALLEL_ENV) $(PY) tests/canary.py $(CANARY)

test-fast: setup
	$(TEST_ENV) $(PARALLEL_ENV) $(PY) -m pytest -p no:cacheprovider -q -n $(TEST_WORKERS) --dist loadfile -m "not kit and not notebooks" tests

workspace: setup
	$(PY) -m helpers.workspace --course $(COURSE_NOTEBOOKS) --workspace $(WORKSPACE) sync

reset: setup
	@test -n "$(NB)" || { echo "usage: make reset NB=<notebook number>, e.g. make reset NB=3" >&2; exit 2; }
	$(PY) -m helpers.workspace --course $(COURSE_NOTEBOOKS) --workspace $(WORKSPACE) reset "$(NB)"

# JupyterLab: 127.0.0.1 and a token; port LAB_PORT, or the next free one if it is taken (Jupyter tries 50 more and
# prints the URL it got, token included). As root (containers, CI, many cloud machines) Jupyter refuses to start
# without --allow-root; without a display (containers, ssh) it would try to open a browser that is not there.
LAB_IP ?= 127.0.0.1
LAB_PORT ?= 8888
lab: models workspace
	@flags=""; \
	if [ "$$(id -u)" -eq 0 ]; then \
		echo "[lab] running as root (as in most containers): passing --allow-root to JupyterLab"; \
		flags="$$flags --allow-root"; \
	fi; \
	if [ "$$(uname)" != Darwin ] && [ -z "$${DISPLAY:-}$${WAYLAND_DISPLAY:-}" ]; then \
		echo "[lab] no display here: open the http://$(LAB_IP):...?token=... URL printed below in your browser"; \
		flags="$$flags --no-browser"; \
	fi; \
	if [ "$(LAB_IP)" = 127.0.0.1 ] && { [ -e /.dockerenv ] || [ -e /run/.containerenv ]; }; then \
		echo "[lab] inside a container: to open it from the host, publish the port (docker run -p 8888:8888)" \
			"and run make lab LAB_IP=0.0.0.0"; \
	fi; \
	exec $(VENV)/bin/jupyter lab --ip=$(LAB_IP) --port=$(LAB_PORT) --ServerApp.port_retries=50 \
		--ServerApp.root_dir=$(WORKSPACE) $$flags

course: models
	$(OFFLINE_ENV) $(PY) -m helpers.course --notebooks $(COURSE_NOTEBOOKS) --out build $(PARAMS)

lint: setup
	$(PY) -m ruff check helpers tests $(COURSE_NOTEBOOKS)
	$(PY) -m helpers.notebooks check $$($(PY) -m helpers.paths lessons $(COURSE_NOTEBOOKS))

bench: models
	$(TEST_ENV) $(PY) -m helpers.bench

# The workshop hub: jupyterhub from requirements.txt, configurable-http-proxy from npm (workshop/package.json).
HUB_PROXY := workshop/node_modules/.bin/configurable-http-proxy
LEARNERS ?= 4
LESSON ?= 02

$(HUB_PROXY): workshop/package.json workshop/package-lock.json
	npm ci --no-audit --no-fund --prefix workshop
	@touch $@

hub: models $(HUB_PROXY)
	$(OFFLINE_ENV) $(PY) -m helpers.hub serve

hub-sync: setup
	$(PY) -m helpers.hub sync-all --course $(COURSE_NOTEBOOKS)

bench-hub: models $(HUB_PROXY)
	$(TEST_ENV) $(PY) -m helpers.hub_bench --learners $(LEARNERS) --lesson $(LESSON)

# The website's tools (Jupyter Book 1) have their own venv: their pins conflict with the course's (requirements-site.txt).
SITE_VENV := .venv-site
SITE_STAMP := $(SITE_VENV)/.site-setup

$(SITE_STAMP): requirements-site.txt
	@test -x $(SITE_VENV)/bin/python || $(PYTHON) -m venv $(SITE_VENV)
	$(SITE_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-site.txt
	@touch $@

site: setup $(SITE_STAMP)
	@$(PY) -m helpers.site --notebooks $(COURSE_NOTEBOOKS) --executed build/executed --check || $(MAKE) course
	$(PY) -m helpers.site --notebooks $(COURSE_NOTEBOOKS) --executed build/executed --report build/course-report.md \
		--out build/site --jupyter-book $(SITE_VENV)/bin/jupyter-book
