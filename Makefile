# "Transformers, under the hood": every target sets up what it needs first.
#   make lab     start JupyterLab on the course (127.0.0.1, with a token)
#   make test    unit tests + every notebook executed and compared by nbval, offline
#   make setup   venv + pinned deps + helpers (editable); redone only when requirements change
#   make models  build the offline model kit into $(COURSE_CACHE)
#   make bench   speed and memory benchmark -> build/bench.json

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.course-setup
export COURSE_CACHE ?= $(HOME)/.cache/transformers-course

# Offline, quiet and reproducible: what tests and benchmarks run under.
TEST_ENV := HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 COURSE_MODELS=local COURSE_THREADS=2 OMP_NUM_THREADS=2 \
	MKL_NUM_THREADS=2 TRANSFORMERS_VERBOSITY=error HF_HUB_DISABLE_PROGRESS_BARS=1 TOKENIZERS_PARALLELISM=false \
	MPLBACKEND=Agg PYDEVD_DISABLE_FILE_VALIDATION=1

.PHONY: setup models test lab bench

setup: $(STAMP)

$(STAMP): requirements.txt constraints.txt helpers/pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt -c constraints.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e helpers
	@touch $@

models: setup
	$(PY) -m helpers.kit

test: models
	$(TEST_ENV) $(PY) -m pytest -p no:cacheprovider tests notebooks --nbval \
		--nbval-sanitize-with tests/sanitize.cfg --nbval-cell-timeout=600

lab: models
	$(VENV)/bin/jupyter lab --ip=127.0.0.1 --notebook-dir=notebooks

bench: models
	$(TEST_ENV) $(PY) -m helpers.bench
