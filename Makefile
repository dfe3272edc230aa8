# Two commands for a fresh machine: `make book` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# A second CPU-kernel configuration (tools/kernel_probe.py shows that it changes low bits): ATen's
# portable kernels instead of AVX2/AVX-512, MKL's reproducible-results mode, oneDNN up to SSE4.1, one thread.
PORTABLE_ENV := OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 ATEN_CPU_CAPABILITY=default MKL_CBWR=COMPATIBLE DNNL_MAX_CPU_ISA=SSE41
export PORTABLE_ENV

.PHONY: book test test-portable test-gpu test-mutants test-lab kernel-probe lab data vendor bench reproduce clean

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=24"
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	bash tools/git_filters.sh
	touch $(STAMP)

data: $(STAMP)
	$(PY) -m thesis_lib.infra.data

vendor:
	bash tools/vendor_js.sh

book: data vendor
	bash tools/build_book.sh
	@echo "Book: $(CURDIR)/_build/html/index.html"

test: data vendor
	bash tests/run_all.sh

test-portable: data
	bash tests/run_all.sh portable

# mutation testing of the library, each module against its own test file (tools/mutants.py; MODULES="..." for some)
test-mutants: data
	$(PY) tools/mutants.py $(MODULES)

# on a machine with CUDA: the library's tests (tests/test_cuda.py included) and every chapter on CUDA, timed
test-gpu: data
	bash tests/run_gpu.sh

# JupyterLab in headless Chromium (also a stage of make test): a chapter run in Lab, its widgets and MyST
test-lab: data
	$(VENV)/bin/python -m pytest -q tests/test_lab.py

kernel-probe: $(STAMP)
	$(PY) tools/kernel_probe.py
	env $(PORTABLE_ENV) $(PY) tools/kernel_probe.py

# as root (a container) Jupyter refuses to start unless told; other users get the default behaviour
lab: data
	$(VENV)/bin/jupyter lab $$([ "$$(id -u)" = 0 ] && echo --allow-root) chapters/

bench: $(STAMP)
	$(PY) -m thesis_lib.experiments.bench

reproduce: data
	THESIS_BUDGET=full $(PY) -m thesis_lib.experiments.reproduce $(NAMES)

clean:
	rm -rf _build
