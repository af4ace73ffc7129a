"""The printed table and the JSON files under bench/results/."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"

Row = tuple[str, Callable[[dict[str, Any]], Any], str]  # label, getter, ratio kind

SERVER_ROWS: dict[str, list[Row]] = {
    "session": [
        ("session  ok / errors", lambda r: f"{r['ok']} / {r['errors']}", ""),
        ("session  throughput req/s", lambda r: r["throughput_rps"], "higher"),
        ("session  p50 ms", lambda r: r["latency_ms"]["p50"], "lower"),
        ("session  p95 ms", lambda r: r["latency_ms"]["p95"], "lower"),
        ("session  p99 ms", lambda r: r["latency_ms"]["p99"], "lower"),
        ("session  max ms", lambda r: r["latency_ms"]["max"], "lower"),
        ("session  server CPU s", lambda r: r.get("server_cpu_s"), "lower"),
        (
            "session  server CPU ms/req",
            lambda r: _get(r, "vs_floor", "server_cpu_ms_per_request"),
            "lower",
        ),
        ("floor    throughput req/s", lambda r: _get(r, "floor", "throughput_rps"), "higher"),
        ("floor    p50 ms", lambda r: _get(r, "floor", "latency_ms", "p50"), "lower"),
        ("floor    p99 ms", lambda r: _get(r, "floor", "latency_ms", "p99"), "lower"),
        (
            "floor    server CPU ms/req",
            lambda r: _get(r, "vs_floor", "floor_server_cpu_ms_per_request"),
            "lower",
        ),
        ("session / floor (>= 0.60)", lambda r: _get(r, "vs_floor", "throughput_share"), ""),
        (
            "session budget (p99 <= 25)",
            lambda r: {True: "PASS", False: "FAIL"}.get(_get(r, "vs_floor", "pass"), "-"),
            "",
        ),
    ],
    "websocket": [
        (
            "ws  clients connected",
            lambda r: f"{r['clients_connected']} / {r['clients_planned']}",
            "",
        ),
        ("ws  connect+ready p50 ms", lambda r: r["connect_ready_ms"]["p50"], "lower"),
        ("ws  connect+ready p95 ms", lambda r: r["connect_ready_ms"]["p95"], "lower"),
        ("ws  send->ack p50 ms", lambda r: r["ack_ms"]["p50"], "lower"),
        ("ws  send->ack p95 ms", lambda r: r["ack_ms"]["p95"], "lower"),
        ("ws  send->ack p99 ms", lambda r: r["ack_ms"]["p99"], "lower"),
        ("ws  send->answer p50 ms", lambda r: r["answer_ms"]["p50"], "lower"),
        ("ws  send->answer p95 ms", lambda r: r["answer_ms"]["p95"], "lower"),
        ("ws  send->answer p99 ms", lambda r: r["answer_ms"]["p99"], "lower"),
        ("ws  send->answer max ms", lambda r: r["answer_ms"]["max"], "lower"),
        ("ws  answered / sent", lambda r: f"{r['answered_in_time']} / {r['sent']}", ""),
        ("ws  errors / timeouts", lambda r: f"{r['errors']} / {r['timeouts']}", ""),
        ("ws  lost acks / answers", lambda r: f"{r['lost_acks']} / {r['lost_answers']}", ""),
        ("ws  server CPU s", lambda r: r.get("server_cpu_s"), "lower"),
    ],
}


def _get(result: dict[str, Any], *path: str) -> Any:
    """A nested figure, or None where the run has none (e.g. no floor measured)."""
    value: Any = result
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def _ratio(a: Any, b: Any) -> str:
    if isinstance(a, int | float) and isinstance(b, int | float) and b:
        return f"{a / b:.2f}"
    return ""


def sizes_table(sizes: dict[str, Any]) -> list[str]:
    if "bundles" not in sizes:
        return [f"Bundle sizes: {sizes.get('error', 'not measured')}"]
    lines = [
        f"{'Bundle sizes (gzip -9)':<36}{'raw B':>8}{'gzip B':>8}{'budget':>8}"
        f"{'headroom':>10}  result"
    ]
    for name, bundle in sizes["bundles"].items():
        label = f"  {name:<7}{Path(str(bundle.get('file'))).name}"
        if "error" in bundle:
            lines.append(f"{label:<36}{bundle['error']:>8}{'':>26}  FAIL")
            continue
        lines.append(
            f"{label:<36}{bundle['raw']:>8}{bundle['gzip']:>8}{bundle['budget_gzip']:>8}"
            f"{bundle['headroom_gzip']:>10}  {'PASS' if bundle['pass'] else 'FAIL'}"
        )
    return lines


def pii_table(pii: dict[str, Any]) -> list[str]:
    """Per-message cost against the p99 target, what was masked, and the 4,000-char worst case."""
    per_message, corpus = pii["per_message_us"], pii["corpus"]
    target = pii["target_p99_us"]
    masked = sum(corpus["masked"].values())
    planted = sum(corpus["planted"].values())
    worst = pii["worst_case"]
    header = f"PII masking ({corpus['messages']} messages, mean {corpus['chars_mean']} chars)"
    rows = [
        ("per message p50 us", per_message["p50"], ""),
        ("per message p95 us", per_message["p95"], ""),
        (
            "per message p99 us",
            per_message["p99"],
            f"{target:>8.0f}  {'PASS' if pii['ok'] else 'FAIL'}",
        ),
        ("per message max us", per_message["max"], ""),
        ("messages/s", pii["messages_per_s"], ""),
        ("masked / planted values", f"{masked} / {planted}", ""),
        ("masked msgs without PII", corpus["messages_masked_without_pii"], ""),
        (f"4000-char worst ms ({worst['name']})", worst["ms"], ""),
    ]
    lines = [f"{header:<46}{'value':>10}{'target':>8}  result"]
    lines += [f"  {label:<44}{_cell(value):>10}{extra}" for label, value, extra in rows]
    return lines


def servers_table(runs: dict[str, dict[str, Any]], benchmarks: list[str]) -> list[str]:
    """One column per server; with uvicorn and daphne both present, a uvicorn/daphne ratio."""
    names = list(runs)
    headers = [f"{n} {runs[n].get('server', {}).get('version', '')}".strip() for n in names]
    with_ratio = names == ["uvicorn", "daphne"]
    lines = [
        f"{'Servers (one process each)':<30}"
        + "".join(f"{h:>18}" for h in headers)
        + (f"{'uvicorn/daphne':>17}" if with_ratio else "")
    ]
    for bench in benchmarks:
        for label, get, kind in SERVER_ROWS.get(bench, []):
            values: list[Any] = []
            for name in names:
                result = runs[name].get(bench)
                if not isinstance(result, dict) or "error" in result:
                    values.append("error" if result else None)
                    continue
                values.append(get(result))
            row = f"  {label:<28}" + "".join(f"{_cell(v):>18}" for v in values)
            if with_ratio and kind:
                row += f"{_ratio(values[0], values[1]):>17}"
            lines.append(row)
    if with_ratio:
        lines.append("  ratio: latency < 1 or throughput > 1 means uvicorn did better")
    for name in names:
        for bench in benchmarks:
            result = runs[name].get(bench)
            if isinstance(result, dict) and "error" in result:
                lines.append(f"  {name} {bench}: {result['error']}")
        if runs[name].get("error"):
            lines.append(f"  {name}: {runs[name]['error']}")
    return lines


def write_json(name: str, payload: dict[str, Any]) -> str:
    """Write bench/results/<name>.json; returns its path relative to the project."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2, sort_keys=False) + "\n")
    return str(path.relative_to(RESULTS_DIR.parent.parent))
