# One command each: `make train` runs the main job, `make test` runs the whole test suite.
# Both create the virtual environment .venv and install nablagrad with its extras on first use.
VENV ?= .venv
PY := $(VENV)/bin/python

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[test]"
	touch $@

.PHONY: test train lint bench
test: $(VENV)/.installed
	$(PY) -m ruff check src tests bench scripts
	$(PY) -m pytest

train: $(VENV)/.installed
	$(VENV)/bin/nablagrad train

lint: $(VENV)/.installed
	$(PY) -m ruff check src tests bench scripts

bench: $(VENV)/.installed
	$(PY) bench/autodiff_overhead.py
