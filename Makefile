# Two commands do all the set-up: `make serve` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PORT   ?= 4507
HTTP_PORT ?= 8507
ARGS   ?=
CHROMIUM ?= /usr/bin/chromium

.PHONY: serve test bench install install-test browser clean

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

# The editor is served on 127.0.0.1:$(HTTP_PORT); the banner prints its URL ("Editor: http://...").
serve: install
	$(PY) -m scapyrpc serve -p $(PORT) --http $(HTTP_PORT) $(ARGS)

# The browser tests drive Debian's chromium; installed here when missing and we are root (as in CI).
browser:
	@if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing chromium for the browser tests (apt-get)"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "chromium could not be installed: the browser tests will be skipped"; \
	  else echo "no $(CHROMIUM) and not root: the browser tests will be skipped"; fi; \
	fi

test: install-test browser
	$(PY) -m pytest $(ARGS)

bench: install-test
	$(PY) -m scapyrpc.bench $(ARGS)

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache
