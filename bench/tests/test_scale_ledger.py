"""The load harness's bookkeeping: what counts as lost, duplicated, unanswered, and how
figures from several load processes are added up (bench.scale_ledger)."""

from __future__ import annotations

import pytest

from bench.scale_ledger import (
    Ledger,
    raw_merge,
    rss_per_socket_kib,
    scale_goals,
    send_offset,
    send_period,
    source_address,
    tcp_inodes,
    usage,
    vmrss_kib,
)
from bench.stats import percentile, summary_ms


def ack(client_id: str, message_id: str) -> dict[str, str]:
    return {"type": "message.ack", "clientId": client_id, "id": message_id}


def agent_message(message_id: str) -> dict[str, str]:
    return {"type": "message", "role": "agent", "id": message_id, "text": "Hello"}


def test_an_acked_and_answered_message_counts_its_latencies() -> None:
    ledger = Ledger()
    ledger.on_send("c1", 10.0)
    ledger.on_frame(ack("c1", "msg_1"), 10.004)
    ledger.on_frame(
        {"type": "message", "role": "customer", "id": "msg_1", "clientId": "c1"}, 10.005
    )
    ledger.on_frame(agent_message("msg_2"), 10.3)

    raw = ledger.raw()

    assert (raw["sent"], raw["acked"], raw["lost"], raw["answered"]) == (1, 1, 0, 1)
    assert raw["ack_s"] == [pytest.approx(0.004)]
    assert raw["answer_s"] == [pytest.approx(0.3)]
    assert raw["duplicate_acks"] == raw["duplicate_deliveries"] == 0


def test_a_message_never_acked_is_lost_and_unanswered() -> None:
    ledger = Ledger()
    ledger.on_send("c1", 1.0)
    ledger.on_send("c2", 2.0)
    ledger.on_frame(ack("c1", "msg_1"), 1.01)

    raw = ledger.raw()

    assert raw["lost"] == 1
    assert raw["unanswered"] == 2


def test_the_same_client_id_acked_under_another_id_is_a_duplicate() -> None:
    ledger = Ledger()
    ledger.on_send("c1", 1.0)
    ledger.on_frame(ack("c1", "msg_1"), 1.01)
    ledger.on_frame(ack("c1", "msg_9"), 1.02)

    raw = ledger.raw()

    assert raw["duplicate_acks"] == 1
    assert raw["acked"] == 1
    assert raw["ack_s"] == [pytest.approx(0.01)]  # the first ack is the one that counts


def test_the_same_ack_repeated_is_not_a_duplicate_message() -> None:
    ledger = Ledger()
    ledger.on_send("c1", 1.0)
    ledger.on_frame(ack("c1", "msg_1"), 1.01)
    ledger.on_frame(ack("c1", "msg_1"), 1.02)

    raw = ledger.raw()

    assert raw["duplicate_acks"] == 0
    assert raw["repeated_acks"] == 1


def test_a_message_delivered_twice_is_a_duplicate_and_answers_once() -> None:
    ledger = Ledger()
    ledger.on_send("c1", 1.0)
    ledger.on_send("c2", 5.0)
    ledger.on_frame(agent_message("msg_2"), 1.5)
    ledger.on_frame(agent_message("msg_2"), 1.6)

    raw = ledger.raw()

    assert raw["duplicate_deliveries"] == 1
    assert raw["answered"] == 1
    assert raw["unanswered"] == 1


def test_answers_pair_with_sends_in_order() -> None:
    ledger = Ledger()
    ledger.on_send("c1", 0.0)
    ledger.on_send("c2", 10.0)
    ledger.on_frame(agent_message("a1"), 0.5)
    ledger.on_frame(agent_message("a2"), 11.0)
    ledger.on_frame(agent_message("a3"), 12.0)

    raw = ledger.raw()

    assert raw["answer_s"] == [pytest.approx(0.5), pytest.approx(1.0)]
    assert raw["extra_answers"] == 1


def test_an_answer_before_its_send_is_not_counted_as_a_latency() -> None:
    ledger = Ledger()
    ledger.on_frame(agent_message("a1"), 0.5)
    ledger.on_send("c1", 1.0)

    raw = ledger.raw()

    assert raw["answer_s"] == []
    assert raw["answered_before_sent"] == 1


def test_deltas_errors_and_unknown_acks_are_counted() -> None:
    ledger = Ledger()
    ledger.on_frame({"type": "message.delta", "id": "a1", "delta": "He"}, 1.0)
    ledger.on_frame({"type": "error", "code": "rate_limited"}, 1.0)
    ledger.on_frame(ack("never-sent", "msg_1"), 1.0)

    raw = ledger.raw()

    assert raw["deltas"] == 1
    assert raw["error_frames"] == {"rate_limited": 1}
    assert raw["unknown_acks"] == 1
    assert raw["acked"] == 0


def test_raw_results_from_several_processes_add_up() -> None:
    merged = raw_merge(
        [
            {"sent": 2, "ack_s": [0.1], "failures": {"session: HTTP 500": 1}, "saturated": False},
            {"sent": 3, "ack_s": [0.2, 0.3], "failures": {"session: HTTP 500": 2, "x": 1}},
        ]
    )

    assert merged["sent"] == 5
    assert merged["ack_s"] == [0.1, 0.2, 0.3]
    assert merged["failures"] == {"session: HTTP 500": 3, "x": 1}
    assert merged["saturated"] is False


def test_the_fleet_offers_exactly_the_rate_asked() -> None:
    sockets, rate, duration = 1000, 100.0, 60.0
    period = send_period(sockets, rate)
    sends = []
    for index in range(sockets):
        due = send_offset(index, rate)
        while due < duration:
            sends.append(due)
            due += period

    assert period == 10.0
    assert len(sends) == 6000
    per_second = [sum(1 for t in sends if s <= t < s + 1) for s in range(60)]
    assert set(per_second) == {100}


def test_sockets_spread_over_source_addresses() -> None:
    assert [source_address(i, 3) for i in range(4)] == [
        "127.0.0.2",
        "127.0.0.3",
        "127.0.0.4",
        "127.0.0.2",
    ]


def test_rss_per_socket_divides_growth_by_the_sockets_held() -> None:
    before = {10: 200_000, 11: 210_000}
    after = {10: 225_000, 11: 235_000}
    sockets = {10: 500, 11: 500}

    assert rss_per_socket_kib(before, after, sockets) == 50.0
    assert rss_per_socket_kib(before, after, {10: 0, 11: 0}) is None


def test_vmrss_is_read_from_proc_status() -> None:
    status = "Name:\tpython\nVmPeak:\t  300000 kB\nVmRSS:\t  123456 kB\nThreads:\t4\n"

    assert vmrss_kib(status) == 123456
    assert vmrss_kib("Name:\tzombie\n") is None


PROC_NET_TCP = """\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 111 1
   1: 0100007F:1F90 0200007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 222 1
   2: 0200007F:D431 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 333 1
   3: 0100007F:1F90 0300007F:D432 06 00000000:00000000 03:00000000 00000000     0        0 0 3
   4: 0100007F:1F91 0200007F:D433 01 00000000:00000000 00:00000000 00000000     0        0 444 1
"""


def test_only_the_servers_side_of_its_port_is_counted() -> None:
    listening, established = tcp_inodes(PROC_NET_TCP, 8080)

    assert listening == {"111"}
    assert established == {"222"}  # not the client's end (333), TIME_WAIT or another port


def test_percentiles_interpolate_between_ranks() -> None:
    values = [float(v) for v in range(1, 101)]

    assert percentile(values, 0.5) == pytest.approx(50.5)
    assert percentile(values, 0.99) == pytest.approx(99.01)
    assert summary_ms([0.001, 0.002, 0.003])["p50"] == 2.0
    assert summary_ms([])["p99"] is None


def passing_product() -> dict:
    return {
        "session": {"latency_ms": {"p99": 20.0}},
        "sockets": {"errors": 0, "rss_per_socket_kib": 40.0},
        "load": {
            "lost": 0,
            "duplicated": 0,
            "unanswered": 0,
            "ack_ms": {"p99": 30.0},
            "answer_ms": {"p99": 900.0},
        },
        "storm": {"errors": 0},
    }


def test_goals_pass_on_a_run_that_meets_the_issue() -> None:
    goals = scale_goals(passing_product(), {"session_throughput": 0.7})

    assert all(goal.passed for goal in goals), [g for g in goals if not g.passed]


def test_one_lost_message_or_a_slow_session_fails_its_goal() -> None:
    product = passing_product()
    product["load"]["lost"] = 1
    goals = {g.name: g for g in scale_goals(product, {"session_throughput": 0.59})}

    assert not goals["messages lost"].passed
    assert not goals["session / floor throughput"].passed
    assert goals["messages duplicated"].passed


def test_a_run_without_figures_passes_no_goal() -> None:
    assert not any(goal.passed for goal in scale_goals({}, {}))


def test_a_phases_cost_is_given_in_all_and_per_unit() -> None:
    before = {"web_cpu_s": 10.0, "other_cpu_s": 1.0, "pg_xacts": 100, "redis_commands": 50, "at": 0}
    after = {"web_cpu_s": 13.0, "other_cpu_s": 2.5, "pg_xacts": 400, "redis_commands": 650, "at": 6}
    before["web_runq_wait_s"], after["web_runq_wait_s"] = 1.0, 4.0

    cost = usage(before, after, 300)

    assert cost["web_cores_busy"] == 0.5
    assert cost["other_cores_busy"] == 0.25
    assert cost["web_threads_waiting_for_cpu"] == 0.5
    assert cost["per_unit"] == {
        "web_cpu_ms": 10.0,
        "other_cpu_ms": 5.0,
        "pg_xacts": 1.0,
        "redis_commands": 2.0,
    }


def test_a_phase_with_nothing_done_has_no_per_unit_cost() -> None:
    cost = usage({"web_cpu_s": 1.0, "at": 0}, {"web_cpu_s": 1.5, "at": 1}, 0)

    assert cost["per_unit"] == {}
    assert cost["web_cpu_s"] == 0.5
