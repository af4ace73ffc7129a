# CustomerAgent — the two commands are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
DEMO_PORT ?= 8001
DEMO_STORE_PORT ?= 8002
DEV_ENV := DEBUG=$${DEBUG:-true}
# Where the demo site and snippets load the widget from: follows PORT unless set. Answers
# run beside the server so they stream (conversations/task_queue.py).
# The ASGI server as every target starts it. --no-proxy-headers: uvicorn would otherwise
# take X-Forwarded-For from a loopback peer as the client address before TRUSTED_PROXIES is
# consulted; security/client_ip.py decides alone (security/tests/hostile/test_client_address.py).
WEB_SERVER := $(VENV)/bin/uvicorn config.asgi:application --no-proxy-headers --ws-max-size 65536 --lifespan off
RUN_ENV := $(DEV_ENV) EMBEDDED_TASKS_DETACHED=$${EMBEDDED_TASKS_DETACHED:-true} MCP_ALLOW_PRIVATE_URLS=$${MCP_ALLOW_PRIVATE_URLS:-true} PUBLIC_BASE_URL=$${PUBLIC_BASE_URL:-http://localhost:$(PORT)}

.PHONY: install build run demo-traffic test lint bench worker beat clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt
	touch $@

frontend/node_modules/.package-lock.json: frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund

install: $(VENV)/.installed frontend/node_modules/.package-lock.json

build: install
	cd frontend && npm run --silent build
	$(DEV_ENV) $(PY) manage.py widget_core_register --if-migrated

run: build
	$(DEV_ENV) $(PY) manage.py migrate --noinput
	$(DEV_ENV) $(PY) manage.py widget_core_register
	$(RUN_ENV) DEMO_PORT=$(DEMO_PORT) DEMO_STORE_PORT=$(DEMO_STORE_PORT) $(PY) manage.py seed_demo
	@echo "Platform: http://localhost:$(PORT)/admin/   Demo site: http://127.0.0.1:$(DEMO_PORT)/"
	trap 'kill 0' EXIT INT TERM; \
	$(RUN_ENV) $(PY) manage.py serve_demo --port $(DEMO_PORT) & \
	$(RUN_ENV) $(PY) manage.py serve_demo_store --port $(DEMO_STORE_PORT) & \
	if [ -z "$$REDIS_URL" ]; then $(RUN_ENV) $(PY) manage.py embedded_beat --max-interval 60 & fi; \
	$(RUN_ENV) $(WEB_SERVER) --host 127.0.0.1 --port $(PORT) & \
	wait

# Simulated visitors and an error spike for the running demo (docs/experiments.md).
demo-traffic:
	$(RUN_ENV) DEMO_PORT=$(DEMO_PORT) $(PY) manage.py demo_traffic $(TRAFFIC_ARGS)

test: build
	cd frontend && npm test --silent
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(DEV_ENV) $(VENV)/bin/mypy .
	$(DEV_ENV) $(PY) manage.py makemigrations --check --dry-run

bench: build
	$(PY) -m bench

worker: install
	$(VENV)/bin/celery -A config worker --loglevel=INFO

beat: install
	$(VENV)/bin/celery -A config beat --loglevel=INFO

clean:
	rm -rf $(VENV) frontend/node_modules frontend/dist staticfiles db.sqlite3
