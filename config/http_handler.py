"""Django's HTTP side of the ASGI app: the sync middleware chain and the view in one hop.

Django's own ASGI handler runs our (sync) middleware and views the async way: every sync
middleware method, the view and both request signals each cross to a thread and back, in
a fresh thread per request. A trivial DRF POST then does about a tenth of what the same
code does under a WSGI server (docs/operations.md, "Serving topology"). This handler
reads the body on the event loop, then runs everything Django does for a WSGI request —
request_started, the middleware chain, the view, rendering, request_finished — in one
call on a small thread pool, and sends the finished response from the loop. Websockets
(Channels) are untouched, and async_to_sync inside a view still reaches the server's loop
(asgiref sets that up for sync_to_async threads), which the embedded mode relies on
(core.task_queue, the in-memory channel layer).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import sync_to_async
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.core.handlers.base import BaseHandler
from django.http import FileResponse, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.urls import set_script_prefix

# Requests served at once per process. The work is CPU under one GIL with short database
# and Redis waits, so a few threads keep the CPU busy; more would only hold more of the
# process's database pool (DATABASE_POOL_MAX_SIZE), which websocket handlers share.
HTTP_THREADS = 4
Headers = list[tuple[bytes, bytes]]


class OneHopASGIHandler(ASGIHandler):
    """An ASGI app for `http` scopes; build it after `django.setup()`."""

    def __init__(self) -> None:
        BaseHandler.__init__(self)
        self.load_middleware(is_async=False)  # one sync chain, as under WSGI
        self.executor = ThreadPoolExecutor(HTTP_THREADS, thread_name_prefix="http")

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django serves HTTP here, not {scope['type']}")
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        try:
            respond = sync_to_async(self.respond, thread_sensitive=False, executor=self.executor)
            status, headers, chunks = await respond(scope, body_file)
        finally:
            body_file.close()
        await send({"type": "http.response.start", "status": status, "headers": headers})
        for index, chunk in enumerate(chunks):
            more = index < len(chunks) - 1
            await send({"type": "http.response.body", "body": chunk, "more_body": more})
        if not chunks:
            await send({"type": "http.response.body", "body": b""})

    def respond(self, scope: dict[str, Any], body_file: Any) -> tuple[int, Headers, list[bytes]]:
        """Everything a WSGI request does, in this one thread; the response as bytes."""
        set_script_prefix(get_script_prefix(scope))
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, response = self.create_request(scope, body_file)
        if request is not None:
            response = self.get_response(request)
            response._handler_class = self.__class__  # type: ignore[attr-defined]
        assert response is not None  # create_request gives a request or an error response
        try:
            if isinstance(response, StreamingHttpResponse):
                if isinstance(response, FileResponse):
                    response.block_size = self.chunk_size
                # As Django's ASGI handler does with a sync iterator (static files here).
                chunks = [bytes(part) for part in response]
            elif isinstance(response, HttpResponse):
                chunks = [bytes(chunk) for chunk, _ in self.chunk_bytes(response.content)]
            else:
                raise TypeError(f"not a response: {type(response).__name__}")
            return response.status_code, _headers(response), chunks
        finally:
            response.close()  # request_finished: this thread's database connection goes back


def _headers(response: HttpResponseBase) -> Headers:
    headers = [(name.encode("ascii"), value.encode("latin1")) for name, value in response.items()]
    for cookie in response.cookies.values():
        headers.append((b"Set-Cookie", cookie.output(header="").encode("ascii").strip()))
    return headers
