"""One load-generating process of `bench.scale`: simulated widgets, driven by commands.

Started by `bench.scale` as `python -m bench.scale_load --lifetime <s>`. It reads one JSON
command per line on stdin and answers each with one JSON line on stdout (logs go to
stderr). It exits at end of input (its parent is gone) or after `--lifetime` seconds,
whatever happens first, so a crashed run never leaves a load generator behind.

Its widgets (bench.scale_widget) do what the real one does. Results come back raw
(latencies in seconds) so the parent can merge the processes' figures before taking
percentiles.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from bench.httpclient import HttpConnection
from bench.scale_ledger import raw_merge, send_offset, send_period, source_address
from bench.scale_widget import STEP_TIMEOUT_S, Widget, connect_tally, count_failure
from bench.session import SESSION_PATH, session_body, session_headers, session_ok


def raise_fd_limit() -> int:
    """Lift the soft open-files limit to the hard one (thousands of sockets per process)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


async def _sleep_until_wall(start_at: float) -> None:
    """Wait for a wall-clock instant shared by every load process."""
    delay = start_at - time.time()
    if delay > 0:
        await asyncio.sleep(delay)


class LoadProcess:
    """The state one load process keeps between commands: its connected widgets."""

    def __init__(self) -> None:
        self.widgets: list[Widget] = []

    # --- commands -------------------------------------------------------------------------
    async def session(self, cmd: dict[str, Any]) -> dict[str, Any]:
        """`connections` keep-alive clients POST sessions until `requests` or `cap_s`."""
        port, body, headers = cmd["port"], session_body(cmd["agent_id"]), session_headers()
        latencies: list[float] = []
        errors: Counter[str] = Counter()
        issued = 0
        await _sleep_until_wall(cmd["start_at"])
        started = time.perf_counter()
        deadline = time.monotonic() + cmd["cap_s"]

        async def client() -> None:
            nonlocal issued
            conn = HttpConnection("127.0.0.1", port, timeout=STEP_TIMEOUT_S)
            try:
                while issued < cmd["requests"] and time.monotonic() < deadline:
                    issued += 1
                    sent = time.perf_counter()
                    try:
                        response = await conn.request("POST", SESSION_PATH, body, headers)
                    except TimeoutError:
                        errors["timeout"] += 1
                        continue
                    except (OSError, asyncio.IncompleteReadError) as exc:
                        errors[type(exc).__name__] += 1
                        continue
                    if session_ok(response):
                        latencies.append(time.perf_counter() - sent)
                    else:
                        errors[f"HTTP {response.status}"] += 1
            finally:
                await conn.close()

        await asyncio.gather(*(client() for _ in range(cmd["connections"])))
        return {
            "ok": len(latencies),
            "errors": sum(errors.values()),
            "error_kinds": dict(errors),
            "latency_s": latencies,
            "wall_s": time.perf_counter() - started,
        }

    async def warm(self, cmd: dict[str, Any]) -> dict[str, Any]:
        """Unmeasured: some sessions, then a few widgets each ask one question and close."""
        port, agent_id = cmd["port"], cmd["agent_id"]
        conn = HttpConnection("127.0.0.1", port, timeout=STEP_TIMEOUT_S)
        try:
            for _ in range(cmd["sessions"]):
                with contextlib.suppress(OSError, asyncio.IncompleteReadError):
                    await conn.request(
                        "POST", SESSION_PATH, session_body(agent_id), session_headers()
                    )
        finally:
            await conn.close()
        tally = connect_tally()
        widgets = [Widget(i, source_address(i, cmd["sources"])) for i in range(cmd["widgets"])]
        try:
            flags = await asyncio.gather(*(w.connect(port, agent_id, tally) for w in widgets))
            live = [w for w, ok in zip(widgets, flags, strict=True) if ok]
            for widget in live:
                await widget.send_question()
            deadline = time.monotonic() + cmd["timeout_s"]
            while time.monotonic() < deadline and not all(w.settled(cmd["answers"]) for w in live):
                await asyncio.sleep(0.1)
            raw = raw_merge(w.ledger.raw() for w in live)
        finally:
            await asyncio.gather(*(w.close() for w in widgets))
        return {"connect": tally, "load": raw}

    async def connect(self, cmd: dict[str, Any]) -> dict[str, Any]:
        """Connect widgets `indices`, at most `concurrency` at a time, and keep them."""
        tally = connect_tally()
        gate = asyncio.Semaphore(cmd["concurrency"])
        deadline = time.monotonic() + cmd["cap_s"]
        await _sleep_until_wall(cmd["start_at"])
        started = time.perf_counter()

        async def one(index: int) -> None:
            async with gate:
                if time.monotonic() >= deadline:
                    count_failure(tally, "not started: connect cap")
                    return
                widget = Widget(index, source_address(index, cmd["sources"]))
                if await widget.connect(cmd["port"], cmd["agent_id"], tally):
                    self.widgets.append(widget)

        await asyncio.gather(*(one(i) for i in cmd["indices"]))
        return {**tally, "wall_s": time.perf_counter() - started}

    async def load(self, cmd: dict[str, Any]) -> dict[str, Any]:
        """Every held widget asks a question every `sockets/rate` s for `duration_s`."""
        rate, duration = cmd["rate"], cmd["duration_s"]
        period = send_period(cmd["sockets"], rate)
        lateness: list[float] = []
        send_failures = 0
        await _sleep_until_wall(cmd["start_at"])
        started = time.perf_counter()

        async def ask(widget: Widget) -> None:
            nonlocal send_failures
            due = send_offset(widget.index, rate)
            while due < duration:
                await asyncio.sleep(max(0.0, started + due - time.perf_counter()))
                lateness.append(time.perf_counter() - started - due)
                if widget.closed_code is not None or not await widget.send_question():
                    send_failures += 1
                    return
                due += period

        await asyncio.gather(*(ask(w) for w in self.widgets))
        sending_wall = time.perf_counter() - started
        drain_deadline = time.monotonic() + cmd["drain_s"]
        while time.monotonic() < drain_deadline and not all(
            w.settled(cmd["answers"]) for w in self.widgets
        ):
            await asyncio.sleep(0.1)
        raw = raw_merge(w.ledger.raw() for w in self.widgets)
        closes = Counter(str(w.closed_code) for w in self.widgets if w.closed_code is not None)
        lateness.sort()
        return {
            **raw,
            "send_failures": send_failures,
            "closes": dict(closes),
            "sending_wall_s": sending_wall,
            "send_lateness_s": lateness,
        }

    async def storm(self, cmd: dict[str, Any]) -> dict[str, Any]:
        """Start a connect every `1/rate` s for `seconds` (open loop), hold, then close."""
        tally = connect_tally()
        rate, seconds = cmd["rate"], cmd["seconds"]
        widgets: list[Widget] = []
        tasks: list[asyncio.Task[bool]] = []
        await _sleep_until_wall(cmd["start_at"])
        started = time.perf_counter()
        number = 0
        while (due := cmd["offset_s"] + number / rate) < seconds:
            await asyncio.sleep(max(0.0, started + due - time.perf_counter()))
            index = cmd["index_base"] + number
            widget = Widget(index, source_address(index, cmd["sources"]))
            widgets.append(widget)
            tasks.append(asyncio.create_task(widget.connect(cmd["port"], cmd["agent_id"], tally)))
            number += 1
        issued_wall = time.perf_counter() - started
        try:
            await asyncio.gather(*tasks)
            await asyncio.sleep(cmd["hold_s"])
            alive = sum(1 for w in widgets if w.ws is not None and w.closed_code is None)
        finally:
            await asyncio.gather(*(w.close() for w in widgets))
        return {
            **tally,
            "attempted": number,
            "issued_wall_s": issued_wall,
            "alive_after_hold": alive,
        }

    async def close(self, cmd: dict[str, Any]) -> dict[str, Any]:
        widgets, self.widgets = self.widgets, []
        await asyncio.gather(*(w.close() for w in widgets))
        return {"closed": len(widgets)}


COMMANDS: dict[str, Callable[[LoadProcess, dict[str, Any]], Awaitable[dict[str, Any]]]] = {
    "session": LoadProcess.session,
    "warm": LoadProcess.warm,
    "connect": LoadProcess.connect,
    "load": LoadProcess.load,
    "storm": LoadProcess.storm,
    "close": LoadProcess.close,
}


async def serve_commands(lifetime_s: float) -> None:
    loop = asyncio.get_running_loop()
    loop.call_later(lifetime_s, os._exit, 3)  # the hard bound, whatever the parent does
    reader = asyncio.StreamReader(limit=1 << 20)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    state = LoadProcess()
    _reply({"ready": True, "pid": os.getpid(), "fd_limit": raise_fd_limit()})
    while line := await reader.readline():
        cmd = json.loads(line)
        cpu, wall = time.process_time(), time.perf_counter()
        try:
            result = await COMMANDS[cmd["cmd"]](state, cmd)
        except Exception as exc:  # reported to the parent, which decides
            result = {"error": f"{type(exc).__name__}: {exc}"}
        result["cpu_s"] = time.process_time() - cpu
        result["command_wall_s"] = time.perf_counter() - wall
        _reply(result)
    await state.close({})


def _reply(payload: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(payload) + "\n")
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.scale_load")
    parser.add_argument("--lifetime", type=float, required=True)
    args = parser.parse_args()
    try:
        import uvloop
    except ImportError:  # the standard loop works, it only costs the client more CPU
        asyncio.run(serve_commands(args.lifetime))
    else:
        uvloop.run(serve_commands(args.lifetime))


if __name__ == "__main__":
    main()
