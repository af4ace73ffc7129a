"""`make chaos`: faults injected into `make serve`, one at a time, every operation checked.

    python -m bench.chaos [--only web-kill,redis-restart] [--visitors 20] [--every 4]

Loopback only and bounded. It creates a PostgreSQL database of its own on the server of
`DATABASE_URL` and starts **its own `redis-server`** on a free port (bench.scale_stack;
never the machine's shared Redis), then serves the product the way `make serve` does (2 web
processes, one Celery worker, one beat under supervisord). Visitors that behave like the
widget (outbox, resend with their client ids, `sync`, the widget's backoff) ask a question
every few seconds throughout, and a staff inbox writes notes (bench.chaos_clients).

For each fault (bench.chaos_faults): a few quiet seconds, the fault, then up to
`--settle` seconds for the platform to catch up: every message sent in the window
acknowledged and answered and every process back. Then the window is checked against the
database (bench.chaos_check) and one table row printed. Results: bench/results/chaos.json.
Everything is torn down at the end, on Ctrl-C too.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shutil
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agents.answering.tests.llm_server import LlmServer, Script
from bench.chaos_check import (
    ANSWER_DEADLINE_S,
    check_window,
    first_answer_after,
    in_window,
    stored_notes,
    stored_questions,
    window_ok,
)
from bench.chaos_clients import StaffClient, Visitor
from bench.chaos_faults import FAULTS, FaultContext, process_counts
from bench.llm import USE_LLM_CODE
from bench.procs import BenchSetupError, run_manage
from bench.scale_load import raise_fd_limit
from bench.scale_serve import git_revision, platform_start
from bench.scale_stack import ScaleStack
from bench.stats import load_average

RESULTS = Path(__file__).resolve().parent / "results" / "chaos.json"
QUIET_S = 6.0  # traffic before each fault
AFTER_S = 8.0  # the window goes on this long after the fault ends
# A staff session for the demo workspace's owner (the inbox socket's cookie).
STAFF_SESSION_CODE = (
    "from importlib import import_module; from django.conf import settings; "
    "from django.contrib.auth import get_user_model, SESSION_KEY, BACKEND_SESSION_KEY, "
    "HASH_SESSION_KEY; u = get_user_model().objects.get(username='acme-lead'); "
    "s = import_module(settings.SESSION_ENGINE).SessionStore(); s[SESSION_KEY] = str(u.pk); "
    "s[BACKEND_SESSION_KEY] = 'django.contrib.auth.backends.ModelBackend'; "
    "s[HASH_SESSION_KEY] = u.get_session_auth_hash(); s.create(); print(s.session_key)"
)
LLM_ANSWER = "Standard shipping takes 3-5 business days; express takes 1-2 and costs $15."
# About 1 s an answer: the worker's 8 threads keep up with the visitors' 5 questions a
# second with room to drain a fault's backlog (at 2 s an answer they fell behind).
LLM_SCRIPT = Script(text=LLM_ANSWER, latency_s=0.3, token_delay_s=0.04, prompt_tokens=300)
PENDING_SQL = (
    "SELECT count(*) FROM conversations_message q JOIN conversations_conversation c "
    "ON c.id = q.conversation_id WHERE q.role = 'customer' AND c.status = 'bot' "
    "AND q.client_id = ANY(%s) AND NOT EXISTS (SELECT 1 FROM conversations_message a "
    "WHERE a.conversation_id = q.conversation_id AND a.client_id = 'reply:' || q.public_id)"
)
FIRST_CONVERSATION_SQL = (
    "SELECT c.public_id FROM conversations_conversation c JOIN agents_agent a "
    "ON a.id = c.agent_id WHERE a.public_id = %s ORDER BY c.id LIMIT 1"
)


@dataclass(frozen=True)
class ChaosConfig:
    faults: tuple[str, ...] = tuple(FAULTS)
    visitors: int = 20
    every_s: float = 4.0  # each visitor asks a question this often
    note_every_s: float = 2.0
    settle_s: float = 90.0
    web_workers: int = 2
    celery_workers: int = 1
    logs: Path | None = None  # copy the processes' logs here
    # "llm": answers come from a local OpenAI-compatible server
    # (agents/answering/tests/llm_server.py)
    # taking about LLM_ANSWER_S each, so a fault finds answers in flight; or "knowledge".
    responder: str = "llm"


def say(message: str) -> None:
    print(f"[chaos] {message}", file=sys.stderr, flush=True)


class Harness:
    def __init__(self, stack: ScaleStack, config: ChaosConfig) -> None:
        self.stack = stack
        self.config = config
        self.stop = asyncio.Event()
        self.visitors: list[Visitor] = []
        self.staff: StaffClient | None = None
        self.tasks: list[asyncio.Task[None]] = []
        self.model: LlmServer | None = None

    def unanswered_now(self) -> int:
        """Stored questions without an answer yet (queued or being answered)."""
        import psycopg

        with psycopg.connect(self.stack.env["DATABASE_URL"], autocommit=True) as db:
            row = db.execute(PENDING_SQL, (self.sent_ids(),)).fetchone()
        return int(row[0]) if row else 0

    async def start_clients(self, port: int, agent_id: str) -> None:
        for index in range(self.config.visitors):
            visitor = Visitor(index, port, agent_id, seed=index)
            self.visitors.append(visitor)
            self.tasks.append(asyncio.create_task(visitor.run(self.stop, self.config.every_s)))
        conversation = await self._first_conversation(agent_id)
        session_key = run_manage(["shell", "-c", STAFF_SESSION_CODE], self.stack.env).split()[-1]
        self.staff = StaffClient(port, session_key, conversation, seed=99)
        self.tasks.append(asyncio.create_task(self.staff.run(self.stop, self.config.note_every_s)))

    async def _first_conversation(self, agent_id: str) -> str:
        import psycopg

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with psycopg.connect(self.stack.env["DATABASE_URL"], autocommit=True) as db:
                row = db.execute(FIRST_CONVERSATION_SQL, (agent_id,)).fetchone()
            if row:
                return str(row[0])
            await asyncio.sleep(0.5)
        raise BenchSetupError("no visitor started a conversation within 60 s")

    async def stop_clients(self) -> None:
        """Stop every client: its socket closed (that ends its read), its tasks awaited."""
        self.stop.set()
        clients: list[Visitor | StaffClient] = [
            *self.visitors,
            *([self.staff] if self.staff else []),
        ]
        for client in clients:
            if client.ws is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(client.ws.close(), 3)
        _, pending = await asyncio.wait(self.tasks, timeout=15) if self.tasks else (set(), set())
        for task in pending:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    def sent_ids(self) -> list[str]:
        return [cid for v in self.visitors for cid in v.record.sent]

    def settled(self, start: float, end: float) -> bool:
        """Every message sent in [start, end) acknowledged, and answered or handed off."""
        sent = in_window([v.record for v in self.visitors], start, end)
        if any(s.acked_at is None for s in sent):
            return False
        ids = [s.client_id for s in sent]
        stored = stored_questions(self.stack.env["DATABASE_URL"], ids)
        return all(q.answer_at is not None or q.handed_off for q in stored.values())


async def run_fault(harness: Harness, ctx: FaultContext, name: str) -> dict[str, Any]:
    description, inject = FAULTS[name]
    config = harness.config
    expected = process_counts(ctx.platform)
    start = time.time()
    await asyncio.sleep(QUIET_S)
    say(f"{name}: {description}")
    ctx.notes["unanswered_at_fault"] = await asyncio.to_thread(harness.unanswered_now)
    injected = time.time()
    fault_end = await inject(ctx)
    await asyncio.sleep(AFTER_S)
    end = time.time()
    deadline = fault_end + config.settle_s
    while time.time() < deadline:
        back = process_counts(ctx.platform) == expected
        if back and await asyncio.to_thread(harness.settled, start, end):
            break
        await asyncio.sleep(1.0)
    settled_s = round(time.time() - fault_end, 1)
    counts = process_counts(ctx.platform)
    database_url = harness.stack.env["DATABASE_URL"]
    stored = stored_questions(database_url, harness.sent_ids())
    assert harness.staff is not None
    notes = stored_notes(database_url, list(harness.staff.record.sent))
    figures = check_window(
        visitors=[v.record for v in harness.visitors],
        staff=harness.staff.record,
        start=start,
        fault_end=fault_end,
        end=end,
        stored=stored,
        notes=notes,
    )
    figures.update(
        fault=name,
        description=description,
        fault_s=round(fault_end - injected, 1),
        settled_s=settled_s,
        first_answer_after_s=first_answer_after(stored, fault_end),
        processes_before=expected,
        processes_after=counts,
        processes_down={k: v for k, v in expected.items() if counts.get(k, 0) < v},
        observed=dict(ctx.notes),
    )
    figures["ok"] = window_ok(figures)
    ctx.notes.clear()
    say(row(figures))
    return figures


HEADER = (
    f"{'fault':<14} {'sent':>5} {'acked':>5} {'lost':>4} {'dup':>4} {'answ':>5} {'hand':>4} "
    f"{'late':>4} {'unans':>5} {'unseen':>6} {'recover s':>9} {'1st answer s':>12} "
    f"{'down':>4}  errors seen by clients"
)


def row(f: dict[str, Any]) -> str:
    errors = ", ".join(f"{k} x{v}" for k, v in f["client_errors"].items()) or "-"
    first = f["first_answer_after_s"]
    return (
        f"{f['fault']:<14} {f['sent']:>5} {f['acked']:>5} {f['lost']:>4} {f['duplicated']:>4} "
        f"{f['answered']:>5} {f['handed_off']:>4} {f['answered_late']:>4} {f['unanswered']:>5} "
        f"{f['answer_unseen']:>6} {f['recover_s']:>9} {first if first is not None else '-':>12} "
        f"{len(f['processes_down']):>4}  {errors}"
    )


async def run_chaos(config: ChaosConfig) -> dict[str, Any]:
    stack = ScaleStack.create()
    payload: dict[str, Any] = {
        "config": {**config.__dict__, "faults": list(config.faults)},
        "revision": git_revision(),
        "answer_deadline_s": ANSWER_DEADLINE_S,
        "load_average_before": load_average(),
    }
    try:
        stack.acquire()
        say(f"own database {stack.pg_database}, own redis-server on port {stack.redis_port}")
        stack.prepare_app()
        model = _use_model(stack) if config.responder == "llm" else None
        platform = await platform_start(
            stack,
            target="product",
            web_workers=config.web_workers,
            celery_workers=config.celery_workers,
        )
        payload["shape"] = platform.shape
        harness = Harness(stack, config)
        harness.model = model
        ctx = FaultContext(stack=stack, platform=platform, agent_id=stack.agent_id)
        try:
            await harness.start_clients(platform.port, stack.agent_id)
            await asyncio.sleep(QUIET_S)
            say(HEADER)
            payload["faults"] = [await run_fault(harness, ctx, name) for name in config.faults]
        finally:
            await harness.stop_clients()
            payload["log_problems"] = platform.log_problems()
            platform.stop()
            if model is not None:
                model.stop()
    finally:
        if config.logs is not None:  # the processes' logs outlive the run's directory
            config.logs.mkdir(parents=True, exist_ok=True)
            for log in stack.workdir.glob("*.log"):
                shutil.copy(log, config.logs / log.name)
        payload["teardown_problems"] = stack.close()
        payload["load_average_after"] = load_average()
    payload["ok"] = all(f["ok"] for f in payload.get("faults", []))
    return payload


def _use_model(stack: ScaleStack) -> LlmServer:
    """The demo agent answers through a local model server (slow enough to be caught)."""
    model = LlmServer(default=LLM_SCRIPT).start()
    stack.env["LLM_ALLOW_PRIVATE_URLS"] = "true"  # the model server is on 127.0.0.1
    code = USE_LLM_CODE.format(agent=stack.agent_id, responder="llm", url=model.base_url)
    run_manage(["shell", "-c", code], stack.env)
    return model


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.chaos", description=__doc__)
    parser.add_argument("--only", help=f"comma-separated faults (of {', '.join(FAULTS)})")
    parser.add_argument("--visitors", type=int, default=ChaosConfig.visitors)
    parser.add_argument("--every", type=float, default=ChaosConfig.every_s)
    parser.add_argument("--settle", type=float, default=ChaosConfig.settle_s)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--responder", choices=("llm", "knowledge"), default="llm")
    parser.add_argument("--logs", type=Path, help="keep the processes' logs in this directory")
    args = parser.parse_args(argv)
    faults = tuple(args.only.split(",")) if args.only else tuple(FAULTS)
    unknown = [name for name in faults if name not in FAULTS]
    if unknown or not 1 <= args.visitors <= 200 or not 0.5 <= args.every <= 60:
        parser.error(f"unknown fault(s) {unknown}" if unknown else "out of bounds")
    config = ChaosConfig(
        faults=faults,
        visitors=args.visitors,
        every_s=args.every,
        settle_s=args.settle,
        logs=args.logs,
        responder=args.responder,
    )
    raise_fd_limit()
    # A `timeout` or `kill` ends the run the way Ctrl-C does: through every teardown.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        payload = asyncio.run(run_chaos(config))
    except BenchSetupError as exc:
        say(f"cannot run: {exc}")
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    print(HEADER)
    for figures in payload.get("faults", []):
        print(row(figures))
    print(
        f"{'all faults recovered' if payload['ok'] else 'SOME FAULTS DID NOT RECOVER'}: {args.out}"
    )
    return 0 if payload["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
