# "Transformers, under the hood": every target sets up what it needs first.
#   make lab          JupyterLab on your own copies of the notebooks in workspace/ (127.0.0.1, with a token)
#   make workspace    copy into workspace/ the notebooks you don't have yet; never overwrites one you have
#   make reset NB=3   keep your copy of notebook 03 as a dated backup (workspace/backups/), restore the course's
#   make test         unit tests + every notebook executed and compared by nbval + JupyterLab in a browser, offline
#   make portability  the notebooks under other CPU kernels, thread counts and a kit fine-tuned elsewhere: all green
#   make canary       the notebooks and exercise tests against the newest libraries on PyPI (throwaway venv)
#   make test-fast    contributors: unit tests only: no kit, no kernel, no site build, no browser (tests/conftest.py)
#   make lint         ruff + notebook cleanliness + lesson modules current: the checks pre-commit runs
#   make export       write the lessons' #@save cells to helpers/src/helpers/lessons/<topic>.py (after editing one)
#   make course       instructors: execute every notebook (papermill) into build/executed/, run times and memory;
#                     parameters as papermill's, e.g. make course PARAMS="-p SEED 1"
#   make site         the course as a website (Jupyter Book) in build/site/, from the notebooks make course
#                     executed (runs make course first only if they are missing or older than the lessons)
#   make setup        venv + the learner's pinned libraries (requirements.txt) + helpers and course_tools (editable);
#                     redone only when requirements change. The contributor's (requirements-dev.txt) and the
#                     instructor's (requirements-instructor.txt) libraries come with the targets that need them.
#   make models       build the offline model kit into $(COURSE_CACHE)
#   make bench        speed and memory benchmark -> build/bench.json
#   make times        contributors: run every notebook, then rewrite each lesson's **Time:** estimate and the README's
#                     time column from its measured reading (course_tools.reading_time)
#   make bench-llama  opt-in: build llama-cpp-python from its PyPI sdist (minutes of compiling) into the venv, then
#                     notebook 12's race with llama.cpp in it -> build/bench-llama.json (never part of lab or test)
#   make hub          instructors: the workshop's JupyterHub on 127.0.0.1:8000 (workshop/, README "Running a workshop")
#   make hub-sync     instructors, mid-class: copy new course files into every learner's folder (never overwrites)
#   make bench-hub    a class measured on this machine: memory per learner, start time, N learners at once

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.course-setup
DEV_STAMP := $(VENV)/.course-setup-dev
INSTRUCTOR_STAMP := $(VENV)/.course-setup-instructor
PIP := $(PY) -m pip install --quiet --disable-pip-version-check
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

.PHONY: times setup setup-dev setup-instructor models test portability canary test-fast lab bench workspace reset course \
	lint export hub hub-sync bench-hub site bench-llama

setup: $(STAMP)
setup-dev: $(DEV_STAMP)
setup-instructor: $(INSTRUCTOR_STAMP)

# The learner's venv (make lab, the lessons): requirements.txt only. torch_wheel.py (standard library only) prints one
# line saying which torch build pip gets (on Linux without an NVIDIA GPU, the CPU build if PyTorch's CPU index answers
# within seconds; otherwise PyPI's) and the pip arguments. Both of the course's packages are installed editable and
# without dependencies: helpers (what the notebooks import) and course_tools (make lab's workspace copy, the rest).
$(STAMP): requirements.txt constraints.txt helpers/pyproject.toml tools/pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@torch_args="$$($(PY) -I tools/src/course_tools/torch_wheel.py)" && set -x && \
	$(PIP) $$torch_args -r requirements.txt -c constraints.txt
	$(PIP) --no-deps -e helpers -e tools
	@touch $@

# The contributor's libraries (tests, lint, the browser test), on top of the learner's.
$(DEV_STAMP): $(STAMP) requirements-dev.txt
	$(PIP) -r requirements-dev.txt -c constraints.txt
	@touch $@

# The instructor's libraries (make course, the workshop hub), on top of the learner's.
$(INSTRUCTOR_STAMP): $(STAMP) requirements-instructor.txt
	$(PIP) -r requirements-instructor.txt -c constraints.txt
	@touch $@

models: setup
	$(PY) -m helpers.kit

# Where the time goes: the 40 slowest in the output, every test's time in build/test-results.xml (make bench reads it).
test: models $(DEV_STAMP) $(INSTRUCTOR_STAMP)
	@mkdir -p build
	$(TEST_ENV) $(PARALLEL_ENV) $(PY) -m pytest -p no:cacheprovider -rs -n $(TEST_WORKERS) --dist loadfile --durations=40 \
		--junitxml=build/test-results.xml tests $(COURSE_NOTEBOOKS) --nbval \
		--nbval-sanitize-with tests/sanitize.cfg --nbval-cell-timeout=600

# The notebooks under other CPU kernels (AVX2, generic), 1 and 3 threads, and a kit fine-tuned under the generic
# kernels: every run must pass (tests/portability.py; table in build/portability/report.md). About 20 minutes.
portability: models $(DEV_STAMP) $(INSTRUCTOR_STAMP)
	$(TEST_ENV) $(PARALLEL_ENV) $(PY) tests/portability.py

# The course against the newest transformers, tokenizers, torch and jupyterlab on PyPI (or CANARY="--pin
# transformers==5.25.0"), in a throwaway venv (build/canary/venv): report per notebook in build/canary/report.md.
CANARY ?=
canary: models $(DEV_STAMP)
	$(TEST_ENV) $(PARALLEL_ENV) $(PY) tests/canary.py $(CANARY)

# Unit tests only: what needs the kit, a kernel, the site's build, a browser or whole programs carries a marker
# (tests/conftest.py).
test-fast: $(DEV_STAMP)
	$(TEST_ENV) $(PARALLEL_ENV) $(PY) -m pytest -p no:cacheprovider -q -n $(TEST_WORKERS) --dist loadfile \
		-m "not kit and not notebooks and not site and not integration" tests

workspace: setup
	$(PY) -m course_tools.workspace --course $(COURSE_NOTEBOOKS) --workspace $(WORKSPACE) sync

reset: setup
	@test -n "$(NB)" || { echo "usage: make reset NB=<notebook number>, e.g. make reset NB=3" >&2; exit 2; }
	$(PY) -m course_tools.workspace --course $(COURSE_NOTEBOOKS) --workspace $(WORKSPACE) reset "$(NB)"

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

course: models $(INSTRUCTOR_STAMP)
	$(OFFLINE_ENV) $(PY) -m course_tools.course --notebooks $(COURSE_NOTEBOOKS) --out build $(PARAMS)

# Every check runs, and the target fails if any did (each says what it found).
lint: $(DEV_STAMP)
	@status=0; set -x; \
	$(PY) -m ruff check helpers tools tests $(COURSE_NOTEBOOKS) || status=1; \
	$(PY) -m course_tools.notebooks check $$($(PY) -m course_tools.paths lessons $(COURSE_NOTEBOOKS)) || status=1; \
	$(PY) -m course_tools.export --check || status=1; \
	exit $$status

export: setup
	$(PY) -m course_tools.export

# Measures and writes build/bench.json, then its measured section of docs/benchmarks.md.
bench: models $(INSTRUCTOR_STAMP)
	$(TEST_ENV) $(PY) -m course_tools.bench

times: models $(INSTRUCTOR_STAMP)
	$(TEST_ENV) $(PY) -m course_tools.reading_time write --measure

# Opt-in (nothing else depends on it): llama.cpp's Python binding, compiled for this CPU from the PyPI sdist (about
# 8 minutes on 2 cores; pin in course_tools/bench_decoder.py), then notebook 12's race with llama.cpp on the kit's GGUF.
bench-llama: models $(INSTRUCTOR_STAMP)
	@pin="$$($(PY) -c 'from course_tools.bench_decoder import LLAMA_CPP; print(LLAMA_CPP)')"; \
	if $(PY) -c 'import llama_cpp' 2>/dev/null; then echo "llama_cpp already installed"; else \
	start=$$(date +%s); echo "building $$pin from source (CPU only; several minutes)"; \
	CMAKE_ARGS="-DGGML_CUDA=OFF -DGGML_METAL=OFF -DGGML_BLAS=OFF -DGGML_NATIVE=ON" \
	$(PIP) --no-binary llama-cpp-python "$$pin" || exit 1; \
	echo "compiled and installed in $$(( $$(date +%s) - start )) s"; fi
	$(TEST_ENV) $(PY) -m course_tools.bench --quant-only --output build/bench-llama.json

# The workshop hub: jupyterhub from requirements-instructor.txt, configurable-http-proxy from npm (workshop/package.json).
HUB_PROXY := workshop/node_modules/.bin/configurable-http-proxy
LEARNERS ?= 4
LESSON ?= 02

$(HUB_PROXY): workshop/package.json workshop/package-lock.json
	npm ci --no-audit --no-fund --prefix workshop
	@touch $@

hub: models $(INSTRUCTOR_STAMP) $(HUB_PROXY)
	$(OFFLINE_ENV) $(PY) -m course_tools.hub serve

hub-sync: setup
	$(PY) -m course_tools.hub sync-all --course $(COURSE_NOTEBOOKS)

bench-hub: models $(INSTRUCTOR_STAMP) $(HUB_PROXY)
	$(TEST_ENV) $(PY) -m course_tools.bench_hub --learners $(LEARNERS) --lesson $(LESSON)

# The website's tools (Jupyter Book 1) have their own venv: their pins conflict with the course's (requirements-site.txt).
SITE_VENV := .venv-site
SITE_STAMP := $(SITE_VENV)/.site-setup

$(SITE_STAMP): requirements-site.txt
	@test -x $(SITE_VENV)/bin/python || $(PYTHON) -m venv $(SITE_VENV)
	$(SITE_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-site.txt
	@touch $@

site: setup $(SITE_STAMP)
	@$(PY) -m course_tools.site --notebooks $(COURSE_NOTEBOOKS) --executed build/executed --check || $(MAKE) course
	$(PY) -m course_tools.site --notebooks $(COURSE_NOTEBOOKS) --executed build/executed --report build/course-report.md \
		--out build/site --jupyter-book $(SITE_VENV)/bin/jupyter-book
