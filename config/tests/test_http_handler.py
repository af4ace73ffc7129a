"""The one-hop HTTP handler (config.http_handler): what Django's ASGI handler did, in one
thread hop — the view, both request signals and the response, on one of its threads."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.testing import HttpCommunicator
from django.core.signals import request_finished, request_started
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from config.http_handler import HTTP_THREADS, OneHopASGIHandler
from security.client_ip import request_client_ip

FILE_BYTES = b"0123456789" * 20_000  # 200 kB: more than one chunk


async def _running_loop() -> asyncio.AbstractEventLoop:
    return asyncio.get_running_loop()


@csrf_exempt
def where(request: HttpRequest) -> JsonResponse:
    loop = async_to_sync(_running_loop)()
    return JsonResponse(
        {
            "thread": threading.current_thread().name,
            "server_loop_running": loop.is_running(),
            "client": request_client_ip(request),
            "body": request.body.decode(),
        }
    )


def download(request: HttpRequest) -> FileResponse:
    return FileResponse(open(request.GET["path"], "rb"))


def cookie(request: HttpRequest) -> HttpResponse:
    response = HttpResponse("set")
    response.set_cookie("flavour", "oat", httponly=True)
    return response


urlpatterns = [path("where", where), path("download", download), path("cookie", cookie)]


@pytest.fixture
def handler(settings: Any) -> OneHopASGIHandler:
    settings.ROOT_URLCONF = __name__
    settings.ALLOWED_HOSTS = ["testserver"]
    return OneHopASGIHandler()


@pytest.fixture
def signal_threads() -> Iterator[list[tuple[str, str]]]:
    seen: list[tuple[str, str]] = []

    def started(**kwargs: Any) -> None:
        seen.append(("started", threading.current_thread().name))

    def finished(**kwargs: Any) -> None:
        seen.append(("finished", threading.current_thread().name))

    request_started.connect(started)
    request_finished.connect(finished)
    yield seen
    request_started.disconnect(started)
    request_finished.disconnect(finished)


async def _call(app: Any, method: str, url: str, body: bytes = b"") -> dict[str, Any]:
    path_only, _, query = url.partition("?")
    communicator = HttpCommunicator(app, method, path_only, body=body)
    communicator.scope["query_string"] = query.encode()
    communicator.scope["client"] = ("198.51.100.7", 50000)
    communicator.scope["headers"] = [(b"host", b"testserver")]
    return await communicator.get_response(timeout=10)


@pytest.mark.django_db
async def test_the_view_and_both_signals_run_on_one_of_its_threads(
    handler: OneHopASGIHandler, signal_threads: list[tuple[str, str]]
) -> None:
    response = await _call(handler, "POST", "/where", b"hello")
    assert response["status"] == 200
    data = json.loads(response["body"])
    assert data["thread"].startswith("http")
    # request_finished returns this thread's database connection: it must run here too.
    assert signal_threads == [("started", data["thread"]), ("finished", data["thread"])]
    assert data["body"] == "hello"


@pytest.mark.django_db
async def test_a_view_still_reaches_the_servers_loop(handler: OneHopASGIHandler) -> None:
    """Embedded mode queues answers on the server's loop (core.task_queue)."""
    response = await _call(handler, "GET", "/where")
    assert json.loads(response["body"])["server_loop_running"] is True


@pytest.mark.django_db
async def test_the_client_is_the_socket_peer(handler: OneHopASGIHandler) -> None:
    response = await _call(handler, "GET", "/where")
    assert json.loads(response["body"])["client"] == "198.51.100.7"


@pytest.mark.django_db
async def test_a_file_arrives_whole(handler: OneHopASGIHandler, tmp_path: Path) -> None:
    file = tmp_path / "big.bin"
    file.write_bytes(FILE_BYTES)
    response = await _call(handler, "GET", f"/download?path={file}")
    assert response["status"] == 200
    assert response["body"] == FILE_BYTES


@pytest.mark.django_db
async def test_cookies_are_sent(handler: OneHopASGIHandler) -> None:
    response = await _call(handler, "GET", "/cookie")
    cookies = [v.decode() for k, v in response["headers"] if k.lower() == b"set-cookie"]
    assert len(cookies) == 1
    assert cookies[0].startswith("flavour=oat;") and "HttpOnly" in cookies[0]


@pytest.mark.django_db
async def test_concurrent_requests_are_served_side_by_side(
    handler: OneHopASGIHandler,
) -> None:
    responses = await asyncio.gather(*(_call(handler, "GET", "/where") for _ in range(12)))
    threads = {json.loads(r["body"])["thread"] for r in responses}
    assert all(r["status"] == 200 for r in responses)
    assert 1 <= len(threads) <= HTTP_THREADS  # a bounded pool, never a thread per request
