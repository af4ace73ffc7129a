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
# Websockets (docs/scaling.md, memory per socket): uvicorn's sans-I/O protocol with a bound
# on clients that stop reading (config/ws_protocol.py), and no per-message deflate, which
# costs ~38 KiB of zlib state per socket for frames of a few hundred bytes.
WEB_SERVER := $(VENV)/bin/uvicorn config.asgi:application --no-proxy-headers --ws-max-size 65536 --lifespan off --ws config.ws_protocol:BoundedWebSocketProtocol --ws-per-message-deflate false
# `make run` and `make demo-traffic` install the demo app (DEMO_APP; `make serve` does not).
RUN_ENV := $(DEV_ENV) DEMO_APP=true EMBEDDED_TASKS_DETACHED=$${EMBEDDED_TASKS_DETACHED:-true} MCP_ALLOW_PRIVATE_URLS=$${MCP_ALLOW_PRIVATE_URLS:-true} WEBHOOKS_ALLOW_PRIVATE_URLS=$${WEBHOOKS_ALLOW_PRIVATE_URLS:-true} PUBLIC_BASE_URL=$${PUBLIC_BASE_URL:-http://localhost:$(PORT)}

.PHONY: install build run serve serve-env demo-traffic test lint bench bench-scale chaos worker beat clean

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

# The production shape on one machine (docs/operations.md#make-serve): WEB_WORKERS web
# processes on one port (HTTP and /ws/), CELERY_WORKERS Celery workers and one beat, under
# supervisord in the foreground. Needs DATABASE_URL, REDIS_URL and SECRET_KEY. Before it
# starts them: migrate, widget_core_register and collectstatic, in one process.
WEB_WORKERS ?= 2
CELERY_WORKERS ?= 1
# One Celery worker process (docs/operations.md, "Sizing the workers"; measured by
# `python -m bench --only replies`): threads, so model answers stream side by side and a
# knowledge-base answer's database waits overlap (not prefork: Celery's Django fix-up closes
# a forked child's whole connection pool after every task); no gossip or mingle, which only
# chatter between workers. Add processes (CELERY_WORKERS), about one per core, for CPU.
CELERY_THREADS ?= 8
CELERY_WORKER_FLAGS ?= --pool=threads --concurrency=$(CELERY_THREADS) --without-gossip --without-mingle
CELERY_WORKER := $(VENV)/bin/celery -A config worker $(CELERY_WORKER_FLAGS)
SERVE_HOST ?= 127.0.0.1
serve: serve-env build
	$(PY) -m config.serve --prepare
	WEB_WORKERS=$(WEB_WORKERS) CELERY_WORKERS=$(CELERY_WORKERS) $(PY) -m config.serve -- $(WEB_SERVER) --no-access-log --host $(SERVE_HOST) --port $(PORT)

serve-env:
	@WEB_WORKERS=$(WEB_WORKERS) CELERY_WORKERS=$(CELERY_WORKERS) $(PY) -m config.serve --check

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
	PYTHONPATH=. $(VENV)/bin/lint-imports --no-cache
	$(DEV_ENV) $(PY) manage.py makemigrations --check --dry-run

bench: build
	$(PY) -m bench

# The loopback load harness against its floor (bench/README.md#scale): its own database
# (on DATABASE_URL's server, default 127.0.0.1:5432) and its own redis-server; minutes.
# SCALE_ARGS, e.g. "--quick" or "--sockets 2000 --duration 60 --rate 100".
bench-scale: $(VENV)/.installed
	$(PY) -m bench --only scale $(SCALE_ARGS)

# Faults injected into `make serve` one at a time, every operation checked (bench/chaos.py,
# docs/operations.md#faults): its own database and its own redis-server, loopback only.
chaos: build
	$(PY) -m bench.chaos $(CHAOS_ARGS)

worker: install
	$(CELERY_WORKER) --loglevel=INFO

beat: install
	$(VENV)/bin/celery -A config beat --loglevel=INFO

clean:
	rm -rf $(VENV) frontend/node_modules frontend/dist staticfiles db.sqlite3
