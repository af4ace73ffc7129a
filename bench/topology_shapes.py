"""The serving shapes `python -m bench --only topology` compares, as the processes each
starts on one public port: 2 web processes per shape, uvicorn, gunicorn, granian or nginx in
front of a split. A shape whose server is not installed is skipped (`missing_needs`).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

from bench.procs import VENV_BIN, free_port

WEB_WORKERS = 2
HTTP_THREADS = 4  # gunicorn gthread and granian WSGI threads, as config.http_handler
UVICORN_FLAGS = ["--no-proxy-headers", "--ws-max-size", "65536", "--lifespan", "off"]
NGINX_CONF = """
worker_processes {workers};
daemon off;
pid {workdir}/nginx.pid;
error_log stderr warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {workdir}/nginx-body;
  proxy_temp_path {workdir}/nginx-proxy;
  fastcgi_temp_path {workdir}/nginx-fastcgi;
  uwsgi_temp_path {workdir}/nginx-uwsgi;
  scgi_temp_path {workdir}/nginx-scgi;
  upstream http_app {{ server 127.0.0.1:{http_port}; keepalive 64; }}
  upstream ws_app {{ server 127.0.0.1:{ws_port}; }}
  server {{
    listen 127.0.0.1:{port};
    location /ws/ {{
      proxy_pass http://ws_app;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection "upgrade";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_read_timeout 3600s;
    }}
    location / {{
      proxy_pass http://http_app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }}
  }}
}}
"""

Commands = list[tuple[str, list[str]]]


@dataclass(frozen=True)
class Topology:
    name: str
    description: str
    websockets: str  # how /ws/ reaches a server on the same public port
    needs: tuple[str, ...]  # Python modules or executables; a missing one skips the shape
    commands: Callable[[int, Path], Commands]  # (public port, workdir) -> processes


def _python(module: str, *args: str) -> list[str]:
    return [str(VENV_BIN / "python"), "-m", module, *args]


def _uvicorn(app: str, port: int) -> list[str]:
    return [
        str(VENV_BIN / "uvicorn"),
        app,
        *UVICORN_FLAGS,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(WEB_WORKERS),
        "--log-level",
        "warning",
    ]


def _gunicorn(app: str, port: int, *worker: str) -> list[str]:
    return _python(
        "gunicorn",
        app,
        *worker,
        "--workers",
        str(WEB_WORKERS),
        "--bind",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
    )


def _gthread(port: int) -> list[str]:
    return _gunicorn("config.wsgi:application", port, "--worker-class", "gthread", "--threads", "4")


def _nginx_split(port: int, workdir: Path) -> Commands:
    http_port, ws_port = free_port(), free_port()
    conf = workdir / "nginx.conf"
    conf.write_text(
        NGINX_CONF.format(
            workers=WEB_WORKERS, workdir=workdir, port=port, http_port=http_port, ws_port=ws_port
        )
    )
    nginx = shutil.which("nginx") or "nginx"
    return [
        ("gunicorn", _gthread(http_port)),
        ("uvicorn-ws", _uvicorn("config.asgi:application", ws_port)),
        ("nginx", [nginx, "-e", "stderr", "-p", str(workdir), "-c", str(conf)]),
    ]


def _granian(interface: str, app: str, port: int) -> list[str]:
    return _python(
        "granian",
        "--interface",
        interface,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(WEB_WORKERS),
        *(["--blocking-threads", str(HTTP_THREADS), "--no-ws"] if interface == "wsgi" else []),
        "--log-level",
        "warning",
        app,
    )


TOPOLOGIES = (
    Topology(
        "uvicorn, Django ASGI handler",
        "before issue 14: uvicorn --workers 2, Django's stock ASGI handler",
        "same server",
        ("uvicorn",),
        lambda port, _: [("uvicorn", _uvicorn("bench.django_asgi:application", port))],
    ),
    Topology(
        "gunicorn + uvicorn-worker",
        "gunicorn master, 2 uvicorn workers, Django's stock ASGI handler",
        "same server",
        ("gunicorn", "uvicorn_worker"),
        lambda port, _: [
            (
                "gunicorn",
                _gunicorn(
                    "bench.django_asgi:application",
                    port,
                    "--worker-class",
                    "uvicorn_worker.UvicornWorker",
                ),
            )
        ],
    ),
    Topology(
        "gunicorn gthread (WSGI)",
        "gunicorn, 2 gthread workers x 4 threads, config.wsgi",
        "none: HTTP only (the upper bound of a split shape)",
        ("gunicorn",),
        lambda port, _: [("gunicorn", _gthread(port))],
    ),
    Topology(
        "nginx -> gthread + uvicorn /ws/",
        "nginx (2 workers) on the port: / to gunicorn gthread x2, /ws/ to uvicorn x2",
        "nginx routes /ws/ to uvicorn",
        ("gunicorn", "nginx"),
        _nginx_split,
    ),
    Topology(
        "granian WSGI",
        "granian --interface wsgi, 2 workers x 4 blocking threads, config.wsgi",
        "none: HTTP only",
        ("granian",),
        lambda port, _: [("granian", _granian("wsgi", "config.wsgi:application", port))],
    ),
    Topology(
        "granian ASGI, one-hop handler",
        "granian --interface asgi, 2 workers, config.asgi (the one-hop handler)",
        "same server",
        ("granian",),
        lambda port, _: [("granian", _granian("asgi", "config.asgi:application", port))],
    ),
    Topology(
        "uvicorn, one-hop handler (make serve)",
        "uvicorn --workers 2, config.asgi: Django HTTP in one thread hop (config.http_handler)",
        "same server",
        ("uvicorn",),
        lambda port, _: [("uvicorn", _uvicorn("config.asgi:application", port))],
    ),
)


def missing_needs(topology: Topology) -> list[str]:
    """What the shape needs that is not installed (empty: it can run)."""
    return [
        need
        for need in topology.needs
        if not (shutil.which(need) if need == "nginx" else find_spec(need))
    ]
