"""The one table `make bench-scale` prints: product and floor side by side, with goals."""

from __future__ import annotations

from typing import Any


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.2f}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


def _ratio(ours: Any, theirs: Any) -> str:
    if isinstance(ours, int | float) and isinstance(theirs, int | float) and theirs:
        return f"{ours / theirs:.2f}"
    return ""


def _pick(result: dict[str, Any], path: str) -> Any:
    value: Any = result
    for key in path.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    return value


ROWS: list[tuple[str, str, str]] = [  # label, path in a target's result, goal name
    ("session req/s", "session.throughput_rps", ""),
    ("session p50 ms", "session.latency_ms.p50", ""),
    ("session p99 ms", "session.latency_ms.p99", "session p99 ms"),
    ("session errors", "session.errors", ""),
    ("session web CPU ms/req", "session.web_cpu_ms_per_request", ""),
    ("session PG xacts/req", "session.usage.per_unit.pg_xacts", ""),
    ("session Redis cmds/req", "session.usage.per_unit.redis_commands", ""),
    ("sockets connected", "sockets.connected", ""),
    ("sockets connect errors", "sockets.errors", "sockets connected, errors"),
    ("sockets connect p50 ms", "sockets.connect_ms.p50", ""),
    ("sockets connect p99 ms", "sockets.connect_ms.p99", ""),
    ("sockets connect wall s", "sockets.wall_s", ""),
    ("web CPU ms/connect", "sockets.web_cpu_ms_per_connect", ""),
    ("Redis commands/connect", "sockets.usage.per_unit.redis_commands", ""),
    ("RSS per idle socket KiB", "sockets.rss_per_socket_kib", "RSS per idle socket KiB"),
    ("messages sent", "load.sent", ""),
    ("sent rate msg/s", "load.sent_rate", ""),
    ("send->ack p50 ms", "load.ack_ms.p50", ""),
    ("send->ack p99 ms", "load.ack_ms.p99", "send->ack p99 ms"),
    ("send->ack max ms", "load.ack_ms.max", ""),
    ("send->answer p50 ms", "load.answer_ms.p50", ""),
    ("send->answer p99 ms", "load.answer_ms.p99", "send->answer p99 ms"),
    ("sockets closed by server", "load.closed_by_server", ""),
    ("lost (never acked)", "load.lost", "messages lost"),
    ("duplicated", "load.duplicated", "messages duplicated"),
    ("unanswered", "load.unanswered", "messages unanswered"),
    ("web CPU ms/message", "load.web_cpu_ms_per_message", ""),
    ("web cores busy", "load.web_cores_busy", ""),
    ("web threads waiting for CPU", "load.usage.web_threads_waiting_for_cpu", ""),
    ("worker CPU ms/answer", "load.worker_cpu_ms_per_answer", ""),
    ("worker cores busy", "load.other_cores_busy", ""),
    ("PG CPU ms/message", "load.usage.per_unit.pg_cpu_ms", ""),
    ("Redis CPU ms/message", "load.usage.per_unit.redis_cpu_ms", ""),
    ("PG transactions/message", "load.usage.per_unit.pg_xacts", ""),
    ("PG rows written/message", "load.usage.per_unit.pg_rows_written", ""),
    ("Redis commands/message", "load.usage.per_unit.redis_commands", ""),
    ("storm connects ok/tried", "storm.connected", ""),
    ("storm errors", "storm.errors", "connect storm errors"),
    ("storm connect p50 ms", "storm.connect_ms.p50", ""),
    ("storm connect p99 ms", "storm.connect_ms.p99", ""),
    ("storm handshake+ready p99", "storm.handshake_ready_ms.p99", ""),
]


def scale_table(payload: dict[str, Any]) -> list[str]:
    config = payload["config"]
    product, floor = payload.get("product", {}), payload.get("floor", {})
    goals = {g["name"]: g for g in payload.get("goals", [])}
    header = (
        f"Scale ({product.get('shape', '?')}; {config['sockets']} sockets, "
        f"{config['rate']:g} msg/s for {config['duration_s']:g}s, "
        f"storm {config['storm_rate']:g}/s x {config['storm_seconds']:g}s)"
    )
    lines = [header, f"  {'':<28}{'product':>10}{'floor':>10}{'ratio':>10}{'target':>10}  result"]
    for label, path, goal_name in ROWS:
        ours, theirs = _pick(product, path), _pick(floor, path)
        if path == "storm.connected":
            ours = f"{ours}/{_pick(product, 'storm.attempted')}" if ours is not None else None
            theirs = f"{theirs}/{_pick(floor, 'storm.attempted')}" if theirs is not None else None
        goal = goals.get(goal_name)
        target, verdict = (
            (goal["target"], "PASS" if goal["passed"] else "FAIL") if goal else ("", "")
        )
        lines.append(
            f"  {label:<28}{_cell(ours):>10}{_cell(theirs):>10}{_ratio(ours, theirs):>10}"
            f"{target:>10}  {verdict}"
        )
    share = payload.get("ratios", {}).get("session_throughput")
    goal = goals.get("session / floor throughput")
    if goal:
        shown = f"{share:.2f}" if share is not None else "-"
        lines.append(
            f"  {'session / floor throughput':<28}{shown:>30}{goal['target']:>10}  "
            f"{'PASS' if goal['passed'] else 'FAIL'}"
        )
    per_process = _pick(product, "sockets.web_processes") or []
    if per_process:
        held = "+".join(str(p["sockets"]) for p in per_process)
        lines.append(f"  sockets per web process: {held}")
    for target, result in (("product", product), ("floor", floor)):
        busy = [
            name
            for name in ("session", "sockets", "load", "storm")
            if _pick(result, f"{name}.client.saturated")
        ]
        if busy:
            lines.append(f"  {target}: a load process used ~100% of a core in: {', '.join(busy)}")
        if result.get("error"):
            lines.append(f"  {target}: {result['error']}")
        for problem in (result.get("log_problems") or [])[:5]:
            lines.append(f"  {target} log: {problem[:150]}")
    if payload.get("setup_error"):
        lines.append(f"  setup failed: {payload['setup_error']}")
    for problem in payload.get("cleanup_problems") or []:
        lines.append(f"  cleanup: {problem}")
    return lines
