# One command each: `make train` runs the main job, `make test` runs the whole test suite.
# Both create the virtual environment .venv and install nablagrad with its extras on first use.
VENV ?= .venv
PY := $(VENV)/bin/python

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[test]"
	touch $@

# The playground's browser tests use Debian's chromium (Playwright cannot download browsers here).
/usr/bin/chromium:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "note: no /usr/bin/chromium and not root: the browser tests will be skipped"; fi

.PHONY: test train lint bench playground
test: $(VENV)/.installed /usr/bin/chromium
	$(PY) -m ruff check src tests bench scripts
	$(PY) -m pytest

train: $(VENV)/.installed
	$(VENV)/bin/nablagrad train

lint: $(VENV)/.installed
	$(PY) -m ruff check src tests bench scripts

bench: $(VENV)/.installed
	$(PY) bench/autodiff_overhead.py
	$(PY) bench/mnist.py
	$(PY) bench/ml.py

playground: $(VENV)/.installed
	$(VENV)/bin/nablagrad playground
