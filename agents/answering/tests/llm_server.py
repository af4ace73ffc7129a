"""An OpenAI-compatible chat-completions server for tests and benchmarks (stdlib only).

`POST /v1/chat/completions`, streaming (server-sent events: `data: {chunk}` lines, a usage
chunk when `stream_options.include_usage` asks for one, then `data: [DONE]`) or not. Each
request takes the next scripted `Script` (else the default one), so a test can say "the
first call asks for a tool, the second answers", "answer after 300 ms, 20 ms per token",
"fail with HTTP 500" or "never answer". Every request body is kept for assertions.

It listens on 127.0.0.1 only, on a free port, in a daemon thread:

    with LlmServer(default=Script(text="Hello there")) as llm:
        agent.llm_base_url = llm.base_url
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

HANG_CAP_S = 60.0


@dataclass(frozen=True)
class Script:
    """What the server does with one request."""

    text: str = "Hello from the test model."
    # Tool calls to ask for instead of (or before) answering: (name, arguments).
    tool_calls: tuple[tuple[str, dict[str, Any]], ...] = ()
    status: int = 200
    hang: bool = False  # accept the request, never answer (until the server stops)
    stall_after: int | None = None  # stream this many tokens, then go silent
    report_usage: bool = True  # send the usage chunk when the client asks for one
    latency_s: float = 0.0  # before the first byte, like a model's time to first token
    token_delay_s: float = 0.0  # between streamed tokens
    prompt_tokens: int | None = None  # reported usage; None: counted from the request
    completion_tokens: int | None = None


@dataclass
class Received:
    body: dict[str, Any]
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic)


def tokens_of(text: str) -> list[str]:
    """The pieces the server streams: words with their trailing spaces."""
    return re.findall(r"\s*\S+\s*", text) or ([text] if text else [])


class LlmServer:
    def __init__(self, default: Script | None = None) -> None:
        self.default = default or Script()
        self.requests: list[Received] = []
        self._queue: deque[Script] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def script(self, *scripts: Script) -> None:
        """Queue what the next requests get, in order; afterwards the default applies."""
        with self._lock:
            self._queue.extend(scripts)

    def bodies(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r.body for r in self.requests]

    def start(self) -> LlmServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # releases hanging handlers
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> LlmServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _next(self, body: dict[str, Any], headers: dict[str, str]) -> Script:
        with self._lock:
            self.requests.append(Received(body=body, headers=headers))
            return self._queue.popleft() if self._queue else self.default


def _handler_for(server: LlmServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: tests and benchmarks read `requests` instead

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._json(404, {"error": {"message": "not found", "type": "not_found"}})
                return
            try:
                body = json.loads(raw)
            except ValueError:
                self._json(400, {"error": {"message": "bad json", "type": "invalid_request"}})
                return
            script = server._next(body, {k.lower(): v for k, v in self.headers.items()})
            if script.hang:
                server._stopping.wait(HANG_CAP_S)
                self.close_connection = True
                return
            if script.latency_s:
                time.sleep(script.latency_s)
            if script.status != 200:
                self._json(
                    script.status,
                    {"error": {"message": "scripted failure", "type": "server_error"}},
                    # Retry quickly: tests should not wait for the SDK's back-off.
                    extra={"retry-after-ms": "10"},
                )
                return
            if body.get("stream"):
                self._stream(body, script)
            else:
                self._json(200, _completion(body, script))

        def _json(self, status: int, payload: Any, extra: dict[str, str] | None = None) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (extra or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _stream(self, body: dict[str, Any], script: Script) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            try:
                for index, chunk in enumerate(_chunks(body, script)):
                    if index > 1 and script.token_delay_s and _is_token(chunk):
                        time.sleep(script.token_delay_s)
                    if script.stall_after is not None and index > script.stall_after:
                        server._stopping.wait(HANG_CAP_S)
                        return
                    self.wfile.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")
                    self.wfile.flush()
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout or a deadline): fine

    return Handler


def _is_token(chunk: dict[str, Any]) -> bool:
    delta = chunk["choices"][0]["delta"] if chunk["choices"] else {}
    return bool(delta.get("content") or delta.get("tool_calls"))


def _asks_for_tools(body: dict[str, Any], script: Script) -> bool:
    return bool(script.tool_calls) and body.get("tool_choice") != "none" and bool(body.get("tools"))


def _usage(body: dict[str, Any], script: Script, completion: int) -> dict[str, int]:
    prompt = script.prompt_tokens
    if prompt is None:
        prompt = sum(len(str(m.get("content") or "").split()) for m in body.get("messages", []))
    done = script.completion_tokens if script.completion_tokens is not None else completion
    return {"prompt_tokens": prompt, "completion_tokens": done, "total_tokens": prompt + done}


def _base(body: dict[str, Any], kind: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": kind,
        "created": int(time.time()),
        "model": str(body.get("model") or "test-model"),
    }


def _tool_call(index: int, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"call_{index}_{name}",
        "type": "function",
        "function": {"name": name, "arguments": json.dumps(arguments)},
    }


def _completion(body: dict[str, Any], script: Script) -> dict[str, Any]:
    if _asks_for_tools(body, script):
        calls = [_tool_call(i, name, args) for i, (name, args) in enumerate(script.tool_calls)]
        message: dict[str, Any] = {"role": "assistant", "content": None, "tool_calls": calls}
        finish, produced = "tool_calls", len(calls)
    else:
        message = {"role": "assistant", "content": script.text}
        finish, produced = "stop", len(tokens_of(script.text))
    return {
        **_base(body, "chat.completion"),
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": _usage(body, script, produced),
    }


def _chunks(body: dict[str, Any], script: Script) -> list[dict[str, Any]]:
    base = _base(body, "chat.completion.chunk")

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    chunks = [chunk({"role": "assistant", "content": ""})]
    if _asks_for_tools(body, script):
        for index, (name, arguments) in enumerate(script.tool_calls):
            call = _tool_call(index, name, arguments)
            encoded = call["function"]["arguments"]
            half = len(encoded) // 2
            # The name first, the arguments in two pieces: clients must stitch them.
            call["function"]["arguments"] = encoded[:half]
            chunks.append(chunk({"tool_calls": [{"index": index, **call}]}))
            rest = {"index": index, "function": {"arguments": encoded[half:]}}
            chunks.append(chunk({"tool_calls": [rest]}))
        chunks.append(chunk({}, "tool_calls"))
        produced = len(script.tool_calls)
    else:
        pieces = tokens_of(script.text)
        chunks += [chunk({"content": piece}) for piece in pieces]
        chunks.append(chunk({}, "stop"))
        produced = len(pieces)
    if script.report_usage and (body.get("stream_options") or {}).get("include_usage"):
        chunks.append({**base, "choices": [], "usage": _usage(body, script, produced)})
    return chunks
