"""Replies that keep up: the knowledge-base answer path, in-process and through Celery.

With its own stack (like *llm*): the bench database (with services, its own PostgreSQL
database and Redis db) and no web server, since what is measured starts once a visitor's
message is stored. Phases:

- *direct*: the reply task called in a loop in one process (no broker): CPU and queries
  per knowledge-base answer. Runs in both modes.
- *floor* (services): no-op Celery tasks sent at the offered rate to one worker process:
  what any task costs the worker (the floor the answer is compared with).
- *load* (services), for 1 and then 2 worker processes: visitor messages stored beforehand,
  their reply tasks enqueued at the offered rate (100/s by default, spread over 1,000
  visitors: each asks every 10 s); every answer is caught on the channel layer as the
  visitor's widget would get it. Reports answered, lost and duplicated answers,
  send→answer p50/p99, answers/s and the workers' CPU per answer (/proc utime + stime of
  their process groups ÷ answers).

Workers run as `make serve` runs them (`CELERY_WORKER_FLAGS` below mirrors the Makefile's
`CELERY_WORKER`).
"""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from bench.procs import VENV_BIN, BenchSetupError, Proc
from bench.stack import Stack
from bench.stats import load_average

# Keep in step with CELERY_WORKER in the Makefile (docs/operations.md, "Sizing the workers").
CELERY_WORKER_FLAGS = (
    "--pool=threads",
    "--concurrency=8",
    "--without-gossip",
    "--without-mingle",
    "--loglevel=warning",
)
ANSWER_P99_BUDGET_MS = 2000.0
CPU_BUDGET_MS = 5.0


@dataclass(frozen=True)
class RepliesConfig:
    rate: float = 100.0  # reply tasks offered per second
    duration_s: float = 20.0  # of offering: rate x duration messages per phase
    visitors: int = 1000  # conversations the messages are spread over
    workers: tuple[int, ...] = (1, 2)  # worker processes, one phase each
    direct_answers: int = 300
    floor_tasks: int = 1000
    answer_timeout_s: float = 30.0  # after the last send
    worker_flags: tuple[str, ...] = field(default=CELERY_WORKER_FLAGS)


QUICK = RepliesConfig(rate=50.0, duration_s=5.0, visitors=200, direct_answers=100, floor_tasks=200)


def _job(stack: Stack, args: list[str], timeout: float) -> dict[str, Any]:
    argv = [str(VENV_BIN / "python"), "-m", "bench.replies_job", *args]
    try:
        done = subprocess.run(  # noqa: S603 - fixed argv, no shell
            argv, env=stack.env, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise BenchSetupError(f"bench.replies_job {args[0]} took over {timeout:.0f}s") from exc
    if done.returncode != 0:
        tail = "\n".join(done.stderr.splitlines()[-15:])
        raise BenchSetupError(f"bench.replies_job {args[0]} failed:\n{tail}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _start_workers(stack: Stack, count: int, flags: tuple[str, ...]) -> list[Proc]:
    workers = []
    for number in range(count):
        argv = [
            str(VENV_BIN / "celery"),
            "-A",
            "config",
            "worker",
            *flags,
            "-n",
            f"replies{stack.pid}-{number}@%h",
        ]
        workers.append(stack._spawn(f"celery-{count}-{number}", argv))
    return workers


def _stop(workers: list[Proc]) -> list[str]:
    problems: list[str] = []
    for worker in workers:
        problems += worker.log_problems()
        worker.stop()
    return problems[:20]


def _phase(stack: Stack, config: RepliesConfig, job: str, count: int) -> dict[str, Any]:
    workers = _start_workers(stack, count, config.worker_flags)
    pgids = ",".join(str(w.pgid) for w in workers)
    try:
        common = ["--pgids", pgids, "--rate", f"{config.rate}", "--timeout"]
        if job == "floor":
            args = ["floor", *common, "30", "--count", str(config.floor_tasks)]
        else:
            args = [
                "load",
                *common,
                f"{config.answer_timeout_s}",
                "--duration",
                f"{config.duration_s}",
                "--visitors",
                str(config.visitors),
            ]
        timeout = 180 + config.duration_s + config.answer_timeout_s
        result = {"workers": count, "load_average_before": load_average()}
        result.update(_job(stack, args, timeout))
        result["load_average_after"] = load_average()
        result["workers_alive_after"] = all(w.alive() for w in workers)
    finally:
        result_problems = _stop(workers)
    result["worker_log_problems"] = result_problems
    return result


def run_replies(quick: bool = False, config: RepliesConfig | None = None) -> dict[str, Any]:
    """Start the stack, measure each phase, tear everything down."""
    config = config or (QUICK if quick else RepliesConfig())
    result: dict[str, Any] = {"config": asdict(config)}
    stack = Stack.create()
    result["mode"] = stack.mode
    try:
        stack.acquire()
        stack.prepare_app(worker=False)
        result.update(mode_description=stack.description, tuning_env=stack.tuning)
        direct = _job(stack, ["direct", "--count", str(config.direct_answers)], 300)
        direct.pop("queries", None)
        result["direct"] = direct
        if stack.mode == "services":
            result["floor"] = _phase(stack, config, "floor", 1)
            result["load"] = [_phase(stack, config, "load", n) for n in config.workers]
            _verdict(result)
    except BenchSetupError as exc:
        result.update(setup_failed=True, error=str(exc))
    except Exception as exc:  # reported in the table and the file, never a traceback
        result.update(setup_failed=True, error=f"{type(exc).__name__}: {exc}"[:2000])
    finally:
        result["cleanup_problems"] = stack.close()
    return result


def _verdict(result: dict[str, Any]) -> None:
    loads = result["load"]
    cpu = [p.get("worker_cpu_ms_per_answer") for p in loads]
    result["budget"] = {
        "every_message_answered": all(p["lost"] == 0 and p["duplicated"] == 0 for p in loads),
        "answer_p99_ok": all(
            (p["answer_ms"]["p99"] or float("inf")) <= ANSWER_P99_BUDGET_MS for p in loads
        ),
        "cpu_per_answer_ok": all(c is not None and c <= CPU_BUDGET_MS for c in cpu),
        "direct_cpu_ok": result["direct"]["cpu_ms_per_answer"] <= CPU_BUDGET_MS,
    }
    floor = result.get("floor", {}).get("worker_cpu_ms_per_task")
    if floor:
        result["cpu_vs_floor"] = [round(c / floor, 2) if c else None for c in cpu]


def replies_status(result: dict[str, Any]) -> int:
    if result.get("setup_failed") or result.get("cleanup_problems"):
        return 2
    budget = result.get("budget")
    if budget is not None and not all(budget.values()):
        return 1
    return 0 if result["direct"]["cpu_ms_per_answer"] <= CPU_BUDGET_MS else 1


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def replies_table(result: dict[str, Any]) -> list[str]:
    if result.get("setup_failed"):
        return [f"Replies: {result.get('error', 'not measured')}"]
    direct = result["direct"]
    cfg = result["config"]
    lines = [
        f"Replies ({result['mode']}; knowledge-base answers; budget ≤ {CPU_BUDGET_MS:.0f} ms "
        f"worker CPU each, every message answered, p99 ≤ {ANSWER_P99_BUDGET_MS:.0f} ms)",
        f"  in-process, task called directly: {direct['cpu_ms_per_answer']:.2f} ms CPU, "
        f"{direct['wall_ms_per_answer']:.2f} ms wall, {direct['queries_per_answer']} queries "
        f"per answer ({direct['answered_by_knowledge']}/{direct['answers']} answered)",
    ]
    floor = result.get("floor")
    if floor:
        lines.append(
            f"  floor: no-op Celery task, 1 worker: {floor['worker_cpu_ms_per_task']:.2f} ms "
            f"worker CPU per task ({floor['tasks']} at {cfg['rate']:.0f}/s)"
        )
    loads = result.get("load") or []
    if loads:
        lines.append(
            f"  {cfg['rate']:.0f} msgs/s offered for {cfg['duration_s']:.0f} s over "
            f"{cfg['visitors']} visitors; worker: celery {' '.join(cfg['worker_flags'][:2])}"
        )
        lines.append(
            f"  {'workers':<9}{'sent':>6}{'answered':>10}{'lost':>6}{'dup':>5}{'p50 ms':>8}"
            f"{'p99 ms':>8}{'max ms':>8}{'ans/s':>7}{'CPU ms/ans':>12}{'x floor':>9}"
        )
        ratios = result.get("cpu_vs_floor") or [None] * len(loads)
        for phase, ratio in zip(loads, ratios, strict=True):
            latency = phase["answer_ms"]
            cpu = phase.get("worker_cpu_ms_per_answer")
            lines.append(
                f"  {phase['workers']:<9}{phase['sent']:>6}{phase['answered']:>10}"
                f"{phase['lost']:>6}{phase['duplicated']:>5}{_ms(latency['p50']):>8}"
                f"{_ms(latency['p99']):>8}{_ms(latency['max']):>8}"
                f"{phase['answers_per_s'] or 0:>7.0f}"
                f"{'-' if cpu is None else f'{cpu:.2f}':>12}"
                f"{'-' if ratio is None else f'{ratio:.1f}':>9}"
            )
    budget = result.get("budget")
    if budget:
        verdict = ", ".join(f"{k} {'PASS' if v else 'FAIL'}" for k, v in budget.items())
        lines.append(f"  budget: {verdict}")
    return lines


if __name__ == "__main__":  # python -m bench.replies [--quick]: this benchmark alone
    import sys

    started = time.monotonic()
    outcome = run_replies(quick="--quick" in sys.argv)
    print("\n".join(replies_table(outcome)))
    print(f"({time.monotonic() - started:.0f} s)")
    sys.exit(replies_status(outcome))
