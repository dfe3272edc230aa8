# Two commands for a fresh machine: `make book` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
BOOK_FLAGS := --all -W -n --keep-going

.PHONY: book test lab data vendor bench reproduce clean

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=24"
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

data: $(STAMP)
	$(PY) -m thesis_lib.data

vendor:
	bash tools/vendor_js.sh

book: data vendor
	$(VENV)/bin/jupyter-book build $(BOOK_FLAGS) .
	@echo "Book: $(CURDIR)/_build/html/index.html"

test: data vendor
	bash tests/run_all.sh

lab: data
	$(VENV)/bin/jupyter lab chapters/

bench: $(STAMP)
	$(PY) -m thesis_lib.bench

reproduce: data
	THESIS_BUDGET=full $(PY) -m thesis_lib.reproduce $(NAMES)

clean:
	rm -rf _build
