# One command each: `make train` runs the main job, `make test` runs the whole test suite.
# Both create the virtual environment .venv on first use and install what they need into it:
#   make train  ->  nablagrad + its run-time dependencies + TRAIN_EXTRAS (the curves' plots)
#   make test   ->  nablagrad + every extra in TEST_EXTRAS + the PEP 735 groups in TEST_GROUPS
# A new optional feature adds its extra to TEST_EXTRAS (so CI exercises it); a new test tool
# goes into a [dependency-groups] group of pyproject.toml listed in TEST_GROUPS.
VENV ?= .venv
PY := $(VENV)/bin/python
TRAIN_EXTRAS := viz
TEST_EXTRAS := viz,image,playground,fast,distributed
TEST_GROUPS := test

# The venv, with a pip new enough for `--group` (pip >= 25.1).
$(VENV)/.created:
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade "pip>=25.1"
	touch $@

$(VENV)/.train-installed: pyproject.toml $(VENV)/.created
	$(PY) -m pip install -q -e ".[$(TRAIN_EXTRAS)]"
	touch $@

$(VENV)/.test-installed: pyproject.toml $(VENV)/.created
	$(PY) -m pip install -q -e ".[$(TEST_EXTRAS)]" $(foreach g,$(TEST_GROUPS),--group $(g))
	touch $@ $(VENV)/.train-installed

$(VENV)/.playground-installed: pyproject.toml $(VENV)/.created
	$(PY) -m pip install -q -e ".[$(TRAIN_EXTRAS),playground]"
	touch $@

# The playground's browser tests use Debian's chromium (Playwright cannot download browsers here).
/usr/bin/chromium:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "note: no /usr/bin/chromium and not root: the browser tests will be skipped"; fi

.PHONY: test train lint bench playground docs docs-figures docs-notebooks
test: $(VENV)/.test-installed /usr/bin/chromium
	$(PY) -m ruff check src tests bench scripts
	$(PY) -m pytest

train: $(VENV)/.train-installed
	$(VENV)/bin/nablagrad train

lint: $(VENV)/.test-installed
	$(PY) -m ruff check src tests bench scripts

$(VENV)/.bench-installed: pyproject.toml $(VENV)/.test-installed
	$(PY) -m pip install -q --group bench
	touch $@

bench: $(VENV)/.bench-installed
	$(PY) bench/peers.py --quick
	$(PY) bench/autodiff_overhead.py
	$(PY) bench/mnist.py
	$(PY) bench/ml.py

playground: $(VENV)/.playground-installed
	$(VENV)/bin/nablagrad playground

# The tutorials: a mkdocs-material site (strict: a broken link fails), their figures (drawn by the
# docs' own code, committed), and the pages as Jupyter notebooks (jupytext; the page is the source).
docs: $(VENV)/.test-installed
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict

docs-figures: $(VENV)/.test-installed
	$(PY) scripts/docs_figures.py

docs-notebooks: $(VENV)/.test-installed
	$(PY) scripts/docs_notebooks.py
