"""What each simulated widget sent and received, and the counts made from it.

Pure bookkeeping for `bench.scale` (no sockets, no clocks of its own), so it is unit-tested
in `bench/tests/test_scale_ledger.py`. Times are `time.perf_counter()` seconds taken by the
caller inside one load process; only differences within a process are ever used.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Ledger:
    """One widget socket: its sends by clientId (in send order) and the frames it got."""

    sent_at: dict[str, float] = field(default_factory=dict)
    acked: dict[str, tuple[str, float]] = field(default_factory=dict)  # clientId -> (id, at)
    answers_at: list[float] = field(default_factory=list)  # agent `message` frames, in order
    seen_ids: set[str] = field(default_factory=set)  # `message` ids delivered to this socket
    duplicate_acks: int = 0  # a clientId acknowledged again under another message id
    repeated_acks: int = 0  # the same ack twice (allowed for a resend; we never resend)
    duplicate_deliveries: int = 0  # the same message id delivered twice as a `message`
    unknown_acks: int = 0  # an ack for a clientId this socket never sent
    deltas: int = 0
    error_frames: Counter[str] = field(default_factory=Counter)

    def on_send(self, client_id: str, at: float) -> None:
        self.sent_at[client_id] = at

    def on_frame(self, frame: Mapping[str, Any], at: float) -> None:
        kind = frame.get("type")
        if kind == "message.ack":
            self._on_ack(str(frame.get("clientId")), str(frame.get("id")), at)
        elif kind == "message":
            message_id = str(frame.get("id"))
            if message_id in self.seen_ids:
                self.duplicate_deliveries += 1
                return  # a second copy answers nothing
            self.seen_ids.add(message_id)
            if frame.get("role") == "agent":
                self.answers_at.append(at)
        elif kind == "message.delta":
            self.deltas += 1
        elif kind == "error":
            self.error_frames[str(frame.get("code"))] += 1

    def _on_ack(self, client_id: str, message_id: str, at: float) -> None:
        if client_id not in self.sent_at:
            self.unknown_acks += 1
        elif client_id not in self.acked:
            self.acked[client_id] = (message_id, at)
        elif self.acked[client_id][0] != message_id:
            self.duplicate_acks += 1
        else:
            self.repeated_acks += 1

    def raw(self) -> dict[str, Any]:
        """This socket's counts and latencies, in the form `raw_merge` adds up."""
        sends = list(self.sent_at.values())  # insertion order is send order
        ack_s = [at - self.sent_at[cid] for cid, (_, at) in self.acked.items()]
        # One answer per message, in order: the n-th agent message answers the n-th send.
        answer_s: list[float] = []
        answered_before_sent = 0
        for sent, answered in zip(sends, self.answers_at, strict=False):
            if answered < sent:
                answered_before_sent += 1
            else:
                answer_s.append(answered - sent)
        answered = min(len(sends), len(self.answers_at))
        return {
            "sent": len(sends),
            "acked": len(self.acked),
            "lost": len(sends) - len(self.acked),
            "answered": answered,
            "unanswered": len(sends) - answered,
            "extra_answers": max(0, len(self.answers_at) - len(sends)),
            "answered_before_sent": answered_before_sent,
            "duplicate_acks": self.duplicate_acks,
            "duplicate_deliveries": self.duplicate_deliveries,
            "repeated_acks": self.repeated_acks,
            "unknown_acks": self.unknown_acks,
            "deltas": self.deltas,
            "error_frames": dict(self.error_frames),
            "ack_s": ack_s,
            "answer_s": answer_s,
        }


def raw_merge(parts: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Add up raw results: numbers are summed, lists joined, dicts merged the same way."""
    merged: dict[str, Any] = {}
    for part in parts:
        for key, value in part.items():
            if isinstance(value, bool) or value is None:
                merged.setdefault(key, value)
            elif isinstance(value, int | float):
                merged[key] = merged.get(key, 0) + value
            elif isinstance(value, list):
                merged[key] = [*merged.get(key, []), *value]
            elif isinstance(value, Mapping):
                merged[key] = raw_merge([merged.get(key, {}), value])
            else:
                merged.setdefault(key, value)
    return merged


def send_offset(index: int, rate: float) -> float:
    """When socket `index` sends first: socket i at i/rate, so sends tick at exactly `rate`.

    Each socket then sends every `sockets / rate` seconds (`send_period`), so within any
    period every socket sends once and the whole fleet offers `rate` messages a second.
    """
    return index / rate


def send_period(sockets: int, rate: float) -> float:
    return sockets / rate


def source_address(index: int, count: int) -> str:
    """The loopback address socket `index` connects from: 127.0.0.2 ... 127.0.0.(count+1)."""
    return f"127.0.0.{2 + index % count}"


def vmrss_kib(status_text: str) -> int | None:
    """VmRSS in KiB from the text of /proc/<pid>/status."""
    for line in status_text.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return None


def rss_per_socket_kib(
    before: Mapping[int, int], after: Mapping[int, int], sockets: Mapping[int, int]
) -> float | None:
    """RSS the processes grew by, divided by the sockets they hold (KiB per socket)."""
    held = sum(sockets.get(pid, 0) for pid in after)
    if held <= 0:
        return None
    grown = sum(after[pid] - before[pid] for pid in after if pid in before)
    return round(grown / held, 1)


LISTEN, ESTABLISHED = "0A", "01"


def tcp_inodes(proc_net_tcp: str, port: int) -> tuple[set[str], set[str]]:
    """(listening, established) socket inodes whose *local* port is `port`.

    Reads the text of /proc/net/tcp: a server's accepted sockets have the server's port as
    their local port; the load generator's own sockets have it as the remote one.
    """
    listening: set[str] = set()
    established: set[str] = set()
    for line in proc_net_tcp.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 10 or ":" not in fields[1]:
            continue
        if int(fields[1].rsplit(":", 1)[1], 16) != port:
            continue
        if fields[3] == LISTEN:
            listening.add(fields[9])
        elif fields[3] == ESTABLISHED:
            established.add(fields[9])
    return listening, established


COUNTERS = (
    "web_cpu_s",
    "other_cpu_s",
    "web_runq_wait_s",
    "pg_xacts",
    "pg_rows_written",
    "pg_cpu_s",
    "redis_commands",
    "redis_cpu_s",
)
# Counters read per wall second: CPU seconds are cores busy; run-queue seconds are threads
# that were ready to run but found no free CPU (the machine's other work), on average.
PER_WALL = {
    "web_cpu_s": "web_cores_busy",
    "other_cpu_s": "other_cores_busy",
    "web_runq_wait_s": "web_threads_waiting_for_cpu",
    "pg_cpu_s": "pg_cores_busy",
    "redis_cpu_s": "redis_cores_busy",
}


def usage(before: Mapping[str, float], after: Mapping[str, float], units: int) -> dict[str, Any]:
    """What a phase cost the platform, in all and per unit (request, connect or message).

    `before`/`after` are cumulative counters (`COUNTERS`) read at the phase's ends, with
    `at`, a monotonic clock reading; cores busy is CPU seconds per wall second.
    """
    wall = after.get("at", 0.0) - before.get("at", 0.0)
    spent = {key: after[key] - before[key] for key in COUNTERS if key in before and key in after}
    result: dict[str, Any] = {"wall_s": round(wall, 2), "units": units}
    result.update({key: round(value, 3) for key, value in spent.items()})
    for key, name in PER_WALL.items():
        if key in spent and wall > 0:
            result[name] = round(spent[key] / wall, 2)
    result["per_unit"] = {
        key.replace("_cpu_s", "_cpu_ms"): round(
            value * (1000 if key.endswith("cpu_s") else 1) / units, 3
        )
        for key, value in spent.items()
        if units > 0 and key != "web_runq_wait_s"
    }
    return result


@dataclass(frozen=True)
class Goal:
    name: str
    value: float | int | None
    target: str
    passed: bool


def _at_most(value: float | int | None, limit: float) -> bool:
    return value is not None and value <= limit


def scale_goals(product: Mapping[str, Any], ratios: Mapping[str, Any]) -> list[Goal]:
    """The issue's "done when", read from one run's product figures and floor ratios."""
    sockets = product.get("sockets", {})
    load = product.get("load", {})
    storm = product.get("storm", {})
    errors = sockets.get("errors")
    lost, duplicated = load.get("lost"), load.get("duplicated")
    unanswered = load.get("unanswered")
    ack_p99 = (load.get("ack_ms") or {}).get("p99")
    answer_p99 = (load.get("answer_ms") or {}).get("p99")
    session_ratio = ratios.get("session_throughput")
    per_socket = sockets.get("rss_per_socket_kib")
    session_p99 = (product.get("session", {}).get("latency_ms") or {}).get("p99")
    return [
        Goal("sockets connected, errors", errors, "0", errors == 0),
        Goal("messages lost", lost, "0", lost == 0),
        Goal("messages duplicated", duplicated, "0", duplicated == 0),
        Goal("messages unanswered", unanswered, "0", unanswered == 0),
        Goal("send->ack p99 ms", ack_p99, "<= 50", _at_most(ack_p99, 50)),
        Goal("send->answer p99 ms", answer_p99, "<= 2000", _at_most(answer_p99, 2000)),
        Goal(
            "session / floor throughput",
            session_ratio,
            ">= 0.60",
            session_ratio is not None and session_ratio >= 0.6,
        ),
        Goal("session p99 ms", session_p99, "<= 25", _at_most(session_p99, 25)),
        Goal("RSS per idle socket KiB", per_socket, "<= 50", _at_most(per_socket, 50)),
        Goal("connect storm errors", storm.get("errors"), "0", storm.get("errors") == 0),
    ]
