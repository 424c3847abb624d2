# mlviz developer commands. Every target creates .venv and installs what it needs.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install -q -c constraints.txt

.PHONY: demo test lint baselines bench clean

# A strict editable install links every module into build/: a folder named mlviz beside a
# script (a clone of this repository, say) cannot shadow the package, as it can with the
# default editable finder. Adding or removing a module relinks (the folders' times change).
EDITABLE := --config-settings editable_mode=strict
$(VENV)/.runtime: pyproject.toml constraints.txt $(shell find src plugins -type d -not -name __pycache__)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PIP) -e . $(EDITABLE)
	touch $@

$(VENV)/.dev: $(VENV)/.runtime
	$(PIP) -e ".[test,bench]" $(EDITABLE)
	touch $@

## demo: install mlviz and render kmeans.gif
demo: $(VENV)/.runtime
	$(VENV)/bin/mlviz render kmeans

## test: install the test dependencies; type-check (mypy: src/mlviz and plugins, configured in
## pyproject.toml), lint (ruff), then run the whole suite
test: $(VENV)/.dev
	$(PY) -m mypy
	$(PY) -m ruff check src plugins tests
	$(PY) -m pytest

## lint: only the typing and lint gate (what `make test` runs first)
lint: $(VENV)/.dev
	$(PY) -m mypy
	$(PY) -m ruff check src plugins tests

## baselines: regenerate pytest-mpl baselines into .mpl-new/ (look, then copy to tests/baseline/)
baselines: $(VENV)/.dev
	$(PY) -m pytest -p no:cacheprovider -m mpl_image_compare --mpl-generate-path=.mpl-new -q
	@echo "New baselines in .mpl-new/: open them, then copy the ones you checked to tests/baseline/"

## bench: mlviz against the notebooks' celluloid pipeline
bench: $(VENV)/.dev
	$(PY) benchmarks/bench.py

clean:
	rm -rf $(VENV) .mpl-results .mpl-new .pytest_cache

.PHONY: docs
## docs: render every algorithm into docs/_build/html/gallery (WebP, GIF, MP4 and posters),
## then build the documentation into docs/_build/html (warnings are errors); the gallery
## page embeds the rendered animations
docs: $(VENV)/.dev
	$(VENV)/bin/mlviz gallery docs/_build/html/gallery --formats webp,gif,mp4
	$(PY) -m sphinx -W -b html docs docs/_build/html
