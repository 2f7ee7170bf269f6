# The two commands: `make run` (the local stack with a demo) and `make test` (every tier).
# Both install what is missing first: a venv with the pinned packages, Debian's Chromium and
# (for the browser tests) axe-core from npm.
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | sha1sum | cut -c1-12)
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PYTEST := $(PY) -m pytest -p no:cacheprovider
AXE    := node_modules/axe-core/axe.min.js

.PHONY: run test install chromium unit integration functional e2e browser clean

run: install
	$(PY) infra/local/stack.py

test: install chromium $(AXE)
	$(PYTEST) tests

unit integration functional e2e: install
	$(PYTEST) tests/$@

browser: install chromium $(AXE)
	$(PYTEST) tests/$@

install: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@rm -f $(VENV)/.installed-*
	@touch $@

$(AXE): package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq npm >/dev/null; }
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }

clean:
	rm -rf $(VENV) node_modules .pytest_cache test-artifacts build .tapcard-dev.json
