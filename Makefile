# Coursebench — two commands on a fresh machine:
#   make run    the whole product on embedded defaults (SQLite, filesystem broker, web + worker)
#   make test   install, lint, and the whole suite on real PostgreSQL and Redis
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
VENDOR := static/vendor
HOST ?= 127.0.0.1
PORT ?= 8000

# Test configuration: real services on this machine (override to point elsewhere).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/coursebench
TEST_BROKER_URL ?= redis://127.0.0.1:6379/15

.PHONY: help install assets run demo test lint format services browser nginx netns-tools clean

help:
	@echo "make run    - install, migrate, load the demo course, start web ($(HOST):$(PORT)) and a Celery worker"
	@echo "make test   - install, ruff, and the whole pytest suite on PostgreSQL + Redis + Chromium + nginx"
	@echo "make format - apply ruff format and autofixes"

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; install Python 3.11" >&2; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	@echo "Installing the pinned Python packages (the first time takes a few minutes: torch, transformers)..."
	@# pip's own progress, without the line per package that is already installed.
	$(PY) -m pip install --progress-bar on -e ".[dev]" | { grep -v '^Requirement already satisfied' || true; }
	touch $(STAMP)

# Local development settings (DEBUG=1 and a SECRET_KEY generated once), read by manage.py and
# the workers through config/env.py, so the README's commands work as written. .gitignore'd;
# a real environment variable always overrides it. Production sets its own environment.
.env:
	@echo "Writing .env for local development (DEBUG=1, a generated SECRET_KEY; never commit it)"
	@umask 077 && printf '%s\n' "# Written by make run for local development only; never commit it." \
	  "DEBUG=1" "SECRET_KEY=$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))')" > $@

$(VENDOR)/.stamp: package.json package-lock.json
	@command -v npm >/dev/null || { echo "error: npm not found; install Node.js (apt-get install nodejs npm)" >&2; exit 1; }
	npm ci --no-audit --no-fund --silent
	mkdir -p $(VENDOR)
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/htmx.min.js
	cp node_modules/chart.js/dist/chart.umd.min.js $(VENDOR)/chart.umd.min.js
	@# Its last line names the source map: collectstatic's hashing fails on a missing reference.
	cp node_modules/chart.js/dist/chart.umd.min.js.map $(VENDOR)/chart.umd.min.js.map
	touch $@

install: $(STAMP) assets

assets: $(VENDOR)/.stamp

# The demo baseline trains in the background (the maintenance worker), so the server answers
# as soon as migrations and the demo course are in. honcho runs the Procfile's processes and
# stops them all, once, on Ctrl-C or SIGTERM (honcho exits 130 / 143: make treats that as done).
run: install .env
	DEBUG=1 $(PY) manage.py migrate --noinput
	DEBUG=1 $(PY) manage.py load_demo
	@echo "Starting web on http://$(HOST):$(PORT)/ (logins above, also in var/demo-logins.json), a grading worker and a maintenance worker; Ctrl-C stops them."
	@DEBUG=1 HOST=$(HOST) PATH="$(CURDIR)/$(VENV)/bin:$$PATH" \
	  $(PY) scripts/honcho_run.py --env /dev/null start --port $(PORT) \
	  || { rc=$$?; [ $$rc -eq 130 ] || [ $$rc -eq 143 ] || exit $$rc; }  # Ctrl-C / SIGTERM: a clean stop

services:
	@bash scripts/ensure_services.sh

browser:
	@bash scripts/ensure_chromium.sh

nginx:
	@bash scripts/ensure_nginx.sh

netns-tools:
	@bash scripts/ensure_netns_tools.sh

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

test: install services browser nginx netns-tools lint
	DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(TEST_BROKER_URL) \
	  PRIVATE_STORAGE_ROOT=$(CURDIR)/var/test-private MEDIA_ROOT=$(CURDIR)/var/test-media \
	  SECRET_KEY=test-only-secret-key DEBUG=0 COURSEBENCH_ENV_FILE= \
	  $(PY) -m pytest $(PYTEST_ARGS)

clean:
	rm -rf var/test-* .pytest_cache .ruff_cache
