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

.PHONY: help install assets run demo test lint format services browser clean

help:
	@echo "make run    - install, migrate, load the demo course, start web ($(HOST):$(PORT)) and a Celery worker"
	@echo "make test   - install, ruff, and the whole pytest suite on PostgreSQL + Redis + Chromium"
	@echo "make format - apply ruff format and autofixes"

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; install Python 3.11" >&2; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

$(VENDOR)/.stamp: package.json package-lock.json
	@command -v npm >/dev/null || { echo "error: npm not found; install Node.js (apt-get install nodejs npm)" >&2; exit 1; }
	npm ci --no-audit --no-fund --silent
	mkdir -p $(VENDOR)
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/htmx.min.js
	cp node_modules/chart.js/dist/chart.umd.min.js $(VENDOR)/chart.umd.min.js
	touch $@

install: $(STAMP) assets

assets: $(VENDOR)/.stamp

run: install
	DEBUG=1 $(PY) manage.py migrate --noinput
	DEBUG=1 $(PY) manage.py load_demo
	@echo "Starting web on http://$(HOST):$(PORT)/ and one Celery worker (with beat); Ctrl-C stops both."
	@trap 'kill 0' INT TERM EXIT; \
	  DEBUG=1 $(VENV)/bin/celery -A config worker --beat --loglevel=INFO --concurrency=1 & \
	  DEBUG=1 $(PY) manage.py runserver --noreload $(HOST):$(PORT)

services:
	@bash scripts/ensure_services.sh

browser:
	@bash scripts/ensure_chromium.sh

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

test: install services browser lint
	DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(TEST_BROKER_URL) \
	  PRIVATE_STORAGE_ROOT=$(CURDIR)/var/test-private MEDIA_ROOT=$(CURDIR)/var/test-media \
	  SECRET_KEY=test-only-secret-key DEBUG=0 \
	  $(PY) -m pytest $(PYTEST_ARGS)

clean:
	rm -rf var/test-* .pytest_cache .ruff_cache
