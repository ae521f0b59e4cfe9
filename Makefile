# Two commands do all the set-up: `make serve` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PORT   ?= 4507
ARGS   ?=

.PHONY: serve test bench install install-test clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Stamps make the installs idempotent: they rerun only when pyproject.toml changes.
$(VENV)/.installed: $(PY) pyproject.toml
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[test,bench]'
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

serve: install
	$(PY) -m scapyrpc serve -p $(PORT) $(ARGS)

test: install-test
	$(PY) -m pytest $(ARGS)

bench: install-test
	$(PY) -m scapyrpc.bench $(ARGS)

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache
