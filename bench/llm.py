"""Answers end to end through the widget websocket: the knowledge base, and an LLM.

The platform runs as in production (uvicorn; with services, a Celery worker producing the
replies), next to the test suite's OpenAI-compatible server (`agents/answering/tests/llm_server.py`,
in this process, on 127.0.0.1) answering after a fixed latency with a fixed delay between
tokens. Each visitor gets a session, connects to `/ws/widget/` and sends questions from the
demo knowledge base; the bench times, from the `message.send` frame leaving:

- *first*: the first `message.delta` (the first token the visitor sees; for the knowledge
  base, which does not stream, its `message`);
- *final*: the agent's final `message` (same id as the deltas).

Phases: the knowledge-base responder one message at a time; the LLM responder one message
at a time (so nothing queues: the pipeline's own overhead is first minus the server's
latency, and final minus the server's whole answer time); then N visitors sending at the
same instant, all streaming at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from dataclasses import asdict, dataclass, field
from importlib.metadata import version
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Origin, Subprotocol

from agents.answering.tests.llm_server import LlmServer, Script, tokens_of
from bench.httpclient import HttpConnection
from bench.procs import BenchSetupError, run_manage
from bench.session import ORIGIN, create_session
from bench.stack import Stack
from bench.stats import load_average, percentile, summary_ms
from bench.ws import QUESTIONS, SUBPROTOCOL

ANSWER = (
    "Express shipping takes one to two business days and costs fifteen dollars; standard "
    "shipping takes three to five business days, and we ship to Canada in seven to ten "
    "days. You can track every parcel from your account page [1]."
)
USE_LLM_CODE = (
    "from agents.models import Agent; "
    "Agent.objects.filter(public_id={agent!r}).update(responder={responder!r}, "
    "llm_base_url={url!r}, llm_model='bench-model', llm_timeout_seconds=10)"
)


@dataclass(frozen=True)
class LlmBenchConfig:
    knowledge_messages: int = 30
    llm_messages: int = 40
    concurrent_visitors: int = 20
    concurrent_rounds: int = 3
    messages_per_visitor: int = 5  # stays under the per-visitor message rate limit
    server_latency_s: float = 0.2
    token_delay_s: float = 0.01
    answer_timeout_s: float = 20.0
    cap_s: float = 120.0  # all measuring stops after this long

    @property
    def server_answer_s(self) -> float:
        """What the model server itself takes for the whole answer."""
        return self.server_latency_s + (len(tokens_of(ANSWER)) - 1) * self.token_delay_s


QUICK = LlmBenchConfig(
    knowledge_messages=10, llm_messages=12, concurrent_visitors=10, concurrent_rounds=1
)


@dataclass
class Timing:
    first_s: float
    final_s: float
    deltas: int
    streamed_matches_final: bool


@dataclass
class Phase:
    timings: list[Timing] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


class Visitor:
    """One widget session: sends a question and times the frames that answer it."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.sent = 0

    @classmethod
    async def open(cls, port: int, agent_id: str) -> Visitor:
        http = HttpConnection("127.0.0.1", port, timeout=10)
        try:
            session = await create_session(http, agent_id)
        finally:
            await http.close()
        ws = await connect(
            f"ws://127.0.0.1:{port}/ws/widget/",
            subprotocols=[Subprotocol(SUBPROTOCOL), Subprotocol("auth." + session["token"])],
            origin=Origin(ORIGIN),
            proxy=None,
            open_timeout=10,
            ping_interval=None,
            close_timeout=3,
        )
        frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
        if frame.get("type") != "session.ready":
            raise RuntimeError(f"first frame {frame.get('type')!r}")
        return cls(ws)

    async def ask(self, timeout_s: float) -> Timing:
        text = QUESTIONS[self.sent % len(QUESTIONS)]
        self.sent += 1
        frame = {"type": "message.send", "clientId": str(uuid.uuid4()), "text": text}
        started = time.perf_counter()
        await self.ws.send(json.dumps(frame))
        first: float | None = None
        streamed: list[str] = []
        deadline = time.monotonic() + timeout_s
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no answer")
            incoming = json.loads(await asyncio.wait_for(self.ws.recv(), remaining))
            kind = incoming.get("type")
            if kind == "error":
                raise RuntimeError(f"error frame {incoming.get('code')}")
            if kind == "message.delta":
                first = first or time.perf_counter() - started
                streamed.append(str(incoming.get("delta")))
            elif kind == "message" and incoming.get("role") == "agent":
                final = time.perf_counter() - started
                return Timing(
                    first_s=first if first is not None else final,
                    final_s=final,
                    deltas=len(streamed),
                    streamed_matches_final=not streamed or "".join(streamed) == incoming["text"],
                )

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.ws.close()


async def _sequential(
    port: int, agent_id: str, count: int, config: LlmBenchConfig, deadline: float
) -> Phase:
    """`count` answers one after another, from a few visitors in turn."""
    phase = Phase()
    visitors: list[Visitor] = []
    try:
        needed = -(-(count + 1) // config.messages_per_visitor)
        visitors = [await Visitor.open(port, agent_id) for _ in range(needed)]
        await visitors[0].ask(config.answer_timeout_s)  # warm-up, unmeasured
        for number in range(count):
            if time.monotonic() > deadline:
                phase.failures.append(f"cap reached after {number} messages")
                break
            visitor = visitors[(number + 1) // config.messages_per_visitor]
            try:
                phase.timings.append(await visitor.ask(config.answer_timeout_s))
            except (TimeoutError, RuntimeError, OSError) as exc:
                phase.failures.append(f"{type(exc).__name__}: {exc}")
    finally:
        for visitor in visitors:
            await visitor.close()
    return phase


async def _concurrent(port: int, agent_id: str, config: LlmBenchConfig, deadline: float) -> Phase:
    """N visitors ask at the same instant, `concurrent_rounds` times."""
    phase = Phase()
    visitors = await asyncio.gather(
        *(Visitor.open(port, agent_id) for _ in range(config.concurrent_visitors))
    )
    try:
        for _ in range(config.concurrent_rounds):
            if time.monotonic() > deadline:
                phase.failures.append("cap reached")
                break
            results = await asyncio.gather(
                *(v.ask(config.answer_timeout_s) for v in visitors), return_exceptions=True
            )
            for result in results:
                if isinstance(result, Timing):
                    phase.timings.append(result)
                else:
                    phase.failures.append(f"{type(result).__name__}: {result}")
    finally:
        for visitor in visitors:
            await visitor.close()
    return phase


def _counts(values: list[int]) -> dict[str, float | None]:
    ordered = sorted(values)
    if not ordered:
        return {"p50": None, "max": None}
    return {"p50": percentile([float(v) for v in ordered], 0.5), "max": float(ordered[-1])}


def _summary(
    phase: Phase, *, first_offset: float = 0.0, final_offset: float = 0.0
) -> dict[str, Any]:
    timings = phase.timings
    return {
        "answers": len(timings),
        "failures": phase.failures[:20],
        "first_ms": summary_ms([t.first_s for t in timings]),
        "final_ms": summary_ms([t.final_s for t in timings]),
        "overhead_first_ms": summary_ms([t.first_s - first_offset for t in timings]),
        "overhead_final_ms": summary_ms([t.final_s - final_offset for t in timings]),
        "deltas_per_answer": _counts([t.deltas for t in timings]),
        "streamed_text_mismatches": sum(1 for t in timings if not t.streamed_matches_final),
    }


def _use_responder(stack: Stack, responder: str, url: str) -> None:
    code = USE_LLM_CODE.format(agent=stack.agent_id, responder=responder, url=url)
    run_manage(["shell", "-c", code], stack.env)


def run_llm(quick: bool = False, config: LlmBenchConfig | None = None) -> dict[str, Any]:
    """Start the stack and the model server, measure, tear everything down."""
    config = config or (QUICK if quick else LlmBenchConfig())
    result: dict[str, Any] = {
        "config": {**asdict(config), "server_answer_s": round(config.server_answer_s, 3)},
        "answer_tokens": len(tokens_of(ANSWER)),
    }
    stack = Stack.create()
    result["mode"] = stack.mode
    # Model replies wait on the network, not the CPU: one worker thread per visitor
    # streaming at once (services mode), as docs/operations.md advises.
    stack.worker_concurrency = config.concurrent_visitors
    script = Script(
        text=ANSWER,
        latency_s=config.server_latency_s,
        token_delay_s=config.token_delay_s,
        prompt_tokens=400,
    )
    model = LlmServer(default=script).start()
    server = None
    try:
        stack.acquire()
        stack.prepare_app()
        server = stack.start_server("uvicorn")
        result.update(
            mode=stack.mode,
            mode_description=stack.description,
            tuning_env=stack.tuning,
            server={"name": "uvicorn", "version": version("uvicorn")},
            worker_concurrency=stack.worker_concurrency if stack.worker else None,
            load_average_before=load_average(),
        )
        deadline = time.monotonic() + config.cap_s
        port, agent = server.port, stack.agent_id
        count = config.knowledge_messages
        knowledge = asyncio.run(_sequential(port, agent, count, config, deadline))
        _use_responder(stack, "llm", model.base_url)
        sequential = asyncio.run(_sequential(port, agent, config.llm_messages, config, deadline))
        concurrent = asyncio.run(_concurrent(port, agent, config, deadline))
        offsets = {
            "first_offset": config.server_latency_s,
            "final_offset": config.server_answer_s,
        }
        result["knowledge"] = _summary(knowledge)
        result["llm_sequential"] = _summary(sequential, **offsets)
        result["llm_concurrent"] = _summary(concurrent, **offsets)
        result["model_requests"] = len(model.requests)
        result["load_average_after"] = load_average()
    except BenchSetupError as exc:
        result.update(setup_failed=True, error=str(exc))
    except Exception as exc:  # reported in the table and the file, never a traceback
        result.update(setup_failed=True, error=f"{type(exc).__name__}: {exc}"[:2000])
    finally:
        model.stop()
        if server is not None:
            result["server_log_problems"] = server.proc.log_problems()[:20]
            server.proc.stop()
        result["worker_log_problems"] = stack.worker_problems()[:20]
        result["cleanup_problems"] = stack.close()
    return result


def llm_status(result: dict[str, Any]) -> int:
    if result.get("setup_failed") or result.get("cleanup_problems"):
        return 2
    return 0


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def llm_table(result: dict[str, Any]) -> list[str]:
    if result.get("setup_failed"):
        return [f"LLM answers: {result.get('error', 'not measured')}"]
    cfg = result["config"]
    lines = [
        f"Answers through the websocket ({result['mode']}; model server: "
        f"{cfg['server_latency_s'] * 1000:.0f} ms to first token, "
        f"{cfg['token_delay_s'] * 1000:.0f} ms/token, {result['answer_tokens']} tokens = "
        f"{cfg['server_answer_s'] * 1000:.0f} ms)",
        f"  {'':<44}{'n':>5}{'p50':>8}{'p95':>8}{'p99':>8}{'max':>8}",
    ]
    rows = [
        ("knowledge base: send→first token ms", "knowledge", "first_ms"),
        ("knowledge base: send→full answer ms", "knowledge", "final_ms"),
        ("LLM, one at a time: send→first delta ms", "llm_sequential", "first_ms"),
        ("  overhead over the server's latency ms", "llm_sequential", "overhead_first_ms"),
        ("LLM, one at a time: send→final message ms", "llm_sequential", "final_ms"),
        ("  overhead over the server's answer ms", "llm_sequential", "overhead_final_ms"),
        (
            f"LLM, {cfg['concurrent_visitors']} at once: send→first delta ms",
            "llm_concurrent",
            "first_ms",
        ),
        ("  overhead over the server's latency ms", "llm_concurrent", "overhead_first_ms"),
        (
            f"LLM, {cfg['concurrent_visitors']} at once: send→final message ms",
            "llm_concurrent",
            "final_ms",
        ),
        ("  overhead over the server's answer ms", "llm_concurrent", "overhead_final_ms"),
    ]
    for label, phase, key in rows:
        row = result[phase][key]
        lines.append(
            f"  {label:<44}{row['count']:>5}{_cell(row['p50']):>8}{_cell(row['p95']):>8}"
            f"{_cell(row['p99']):>8}{_cell(row['max']):>8}"
        )
    for phase in ("llm_sequential", "llm_concurrent"):
        summary = result[phase]
        deltas = summary["deltas_per_answer"]
        lines.append(
            f"  {phase}: delta frames per answer p50 {_cell(deltas['p50'])}, "
            f"streamed≠final {summary['streamed_text_mismatches']}, "
            f"failures {len(summary['failures'])}"
        )
    if result.get("worker_concurrency"):
        threads = result["worker_concurrency"]
        lines.append(f"  Celery worker: --pool=threads --concurrency={threads}")
    return lines
