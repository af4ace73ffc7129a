"""The compiled widget snapshot: every write that changes it reaches the next request in
every process.

Two `SnapshotCache`s stand for two web processes sharing one Redis (or, embedded, one
cache): each compiles the agent once, and after a staff change each must see the change on
its very next lookup, with no query while nothing changed.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from agents.models import Agent
from conftest import SITE_ORIGIN
from experiments.models import Experiment
from experiments.services import (
    VariantIn,
    experiment_create,
    experiment_promote,
    experiment_start,
    experiment_stop,
)
from security.blocks import ip_block_for
from security.limits import limit_for
from security.models import IpBlock
from security.ratelimit import Limit
from widgets.config.validation import core_version_validate
from widgets.delivery.custom_domains import record_value
from widgets.delivery.snapshots import (
    GateAsks,
    SnapshotCache,
    WidgetSnapshot,
    agent_stamp,
    widget_gate,
    widget_snapshot,
)
from widgets.installation.refusals import installation_host_allow
from widgets.models import CoreBuild, WidgetConfig
from widgets.publishing.drafts import widget_draft_update
from widgets.publishing.releases import widget_publish, widget_release_rollback

pytestmark = pytest.mark.django_db

ELSEWHERE = "https://elsewhere.example.net"


class Process:
    """One web process's compiled snapshots (the two share the stamps)."""

    def __init__(self) -> None:
        self.store = SnapshotCache()

    def snapshot(self, agent: Agent) -> WidgetSnapshot | None:
        return widget_snapshot(agent.public_id, store=self.store)

    def session_gate(self, agent: Agent, origin: str = SITE_ORIGIN) -> Any:
        """What the session endpoint asks: per address, and per site when allowed."""

        def asks_for(snapshot: WidgetSnapshot | None, blocks: Any) -> GateAsks:
            hits: list[tuple[Limit, str]] = [(limit_for("session_per_ip"), "127.0.0.1")]
            if snapshot is not None and snapshot.allows(origin):
                hits.append((limit_for("session_per_agent_domain"), origin))
            return GateAsks(hits=hits)

        return widget_gate(agent_public_id=agent.public_id, asks_for=asks_for, store=self.store)


@pytest.fixture
def processes(agent: Agent) -> tuple[Process, Process]:
    one, two = Process(), Process()
    assert one.session_gate(agent).snapshot is not None
    assert two.snapshot(agent) is not None
    return one, two


def both(processes: tuple[Process, Process], agent: Agent) -> list[WidgetSnapshot | None]:
    one, two = processes
    return [one.session_gate(agent).snapshot, two.snapshot(agent)]


def test_an_unchanged_agent_costs_no_query(
    processes: tuple[Process, Process], agent: Agent, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(0):
        assert all(both(processes, agent))


def test_a_removed_domain_refuses_the_next_session_in_every_process(
    processes: tuple[Process, Process], agent: Agent, owner: Any
) -> None:
    widget_draft_update(agent=agent, values={"allowedDomains": ["*.example.org"]}, by=owner)
    assert [s.allows(SITE_ORIGIN) for s in both(processes, agent) if s] == [False, False]


def test_domains_changed_through_the_api_and_the_deploy_page_reach_every_process(
    processes: tuple[Process, Process], agent: Agent, owner: Any
) -> None:
    api = APIClient()
    api.force_authenticate(owner)
    changed = api.patch(
        f"/api/v2/agents/{agent.public_id}/widget",
        {"allowedDomains": ["shop.example.com"]},
        format="json",
    )
    assert changed.status_code == 200, changed.content
    assert [s.allowed_domains for s in both(processes, agent) if s] == [["shop.example.com"]] * 2
    installation_host_allow(agent=agent, host="elsewhere.example.net", by=owner)
    assert [s.allows(ELSEWHERE) for s in both(processes, agent) if s] == [True, True]


def test_a_switched_off_agent_refuses_the_next_session_in_every_process(
    processes: tuple[Process, Process], agent: Agent
) -> None:
    agent.is_active = False
    agent.save()
    assert both(processes, agent) == [None, None]
    agent.is_active = True
    agent.save()
    assert all(both(processes, agent))


def test_identity_required_reaches_every_process(
    processes: tuple[Process, Process], agent: Agent
) -> None:
    agent.identity_required = True
    agent.save(update_fields=["identity_required", "updated_at"])  # as the identity page does
    assert [s.identity_required for s in both(processes, agent) if s] == [True, True]


def test_new_rate_limits_reach_every_process(
    processes: tuple[Process, Process], agent: Agent
) -> None:
    widget_draft_update(agent=agent, values={"rateLimits": {"session_per_ip": 500}})
    assert [s.rate_limits for s in both(processes, agent) if s] == [{"session_per_ip": 500}] * 2


def test_publish_and_rollback_reach_every_process(
    processes: tuple[Process, Process], agent: Agent, owner: Any
) -> None:
    first = widget_publish(agent=agent, by=owner)
    widget_draft_update(agent=agent, values={"greeting": "Ahoy!"}, by=owner)
    # A draft is not live: visitors still see the published greeting.
    assert [s.config["greeting"] for s in both(processes, agent) if s] == ["Hello there!"] * 2
    widget_publish(agent=agent, by=owner)
    assert [s.config["greeting"] for s in both(processes, agent) if s] == ["Ahoy!"] * 2
    widget_release_rollback(release=first, by=owner)
    assert [s.config["greeting"] for s in both(processes, agent) if s] == ["Hello there!"] * 2


def test_experiments_starting_stopping_and_promoted_reach_every_process(
    processes: tuple[Process, Process], agent: Agent, owner: Any
) -> None:
    experiment = experiment_create(
        agent=agent,
        key="greeting",
        name="Greeting test",
        variants=[VariantIn("control", 50, {}), VariantIn("bold", 50, {"greeting": "Yo!"})],
    )
    assert [s.experiments for s in both(processes, agent) if s] == [(), ()]  # a draft
    experiment_start(experiment=experiment, by=owner)
    running = [s.experiments for s in both(processes, agent) if s]
    assert [[(v.key, v.weight, v.overrides) for v in e[0].variants] for e in running] == [
        [("bold", 50, {"greeting": "Yo!"}), ("control", 50, {})]
    ] * 2
    experiment_stop(experiment=experiment, by=owner)
    assert [s.experiments for s in both(processes, agent) if s] == [(), ()]
    experiment_promote(experiment=Experiment.objects.get(pk=experiment.pk), variant_key="bold")
    assert [s.config["greeting"] for s in both(processes, agent) if s] == ["Yo!", "Yo!"]


def test_a_core_pin_reaches_every_process(processes: tuple[Process, Process], agent: Agent) -> None:
    CoreBuild.objects.create(version="9.9.9-PIN", path="widget/core.PIN.js", integrity="sha384-x")
    assert core_version_validate("9.9.9-PIN") == "9.9.9-PIN"
    widget_draft_update(agent=agent, values={"coreVersion": "9.9.9-PIN"})
    assert [s.core_version for s in both(processes, agent) if s] == ["9.9.9-PIN"] * 2


def test_a_custom_domain_verification_replaces_the_agents_stamp(
    processes: tuple[Process, Process], agent: Agent, owner: Any, monkeypatch: Any
) -> None:
    from widgets.delivery import custom_domains

    widget_draft_update(agent=agent, values={"customDomain": "chat.shop.example.com"})
    stamp = processes[1].snapshot(agent).stamp  # type: ignore[union-attr]
    config = WidgetConfig.objects.get(agent=agent)
    monkeypatch.setattr(custom_domains, "txt_values", lambda name: [record_value(config)])
    custom_domains.custom_domain_check(agent=agent, by=owner)
    assert WidgetConfig.objects.get(agent=agent).custom_domain_verified_at is not None
    assert {s.stamp for s in both(processes, agent) if s} - {stamp} != set()


def test_a_stamp_lost_by_redis_never_passes_an_old_snapshot_as_current(
    processes: tuple[Process, Process], agent: Agent
) -> None:
    """A change made behind the receivers' back (a raw UPDATE) followed by Redis losing
    the stamps: whatever was compiled before is recompiled, however often it happens."""
    for domains in (["one.example.com"], ["two.example.com"]):
        WidgetConfig.objects.filter(agent=agent).update(allowed_domains=domains)
        cache.clear()  # FLUSHDB with Redis: every stamp is gone
        assert [s.allowed_domains for s in both(processes, agent) if s] == [domains, domains]


def test_made_up_agent_ids_cannot_push_real_agents_out(agent: Agent) -> None:
    store = SnapshotCache(max_agents=10, max_unknown=2)
    assert widget_snapshot(agent.public_id, store=store) is not None
    for n in range(50):
        assert widget_snapshot(f"agt_madeup{n}", store=store) is None
    assert store.get(agent.public_id) is not None
    assert store.get("agt_madeup0") is None and store.get("agt_madeup49") is not None


def test_an_ip_block_refuses_the_next_request_and_lifting_it_lets_the_next_one_in(
    processes: tuple[Process, Process], agent: Agent
) -> None:
    one, _ = processes
    assert one.session_gate(agent).blocks.match("127.0.0.1") is None
    block = IpBlock.objects.create(network="127.0.0.0/8", reason="abuse")
    assert one.session_gate(agent).blocks.match("127.0.0.1") is not None
    assert ip_block_for("127.0.0.1") is not None
    block.delete()
    assert one.session_gate(agent).blocks.match("127.0.0.1") is None
    assert ip_block_for("127.0.0.1") is None


def test_a_workspace_block_applies_only_to_its_own_agents(agent: Agent, other_agent: Agent) -> None:
    IpBlock.objects.create(network="10.1.2.3", reason="spam", workspace=agent.workspace)
    assert ip_block_for("10.1.2.3", workspace_id=agent.workspace_id) is not None
    assert ip_block_for("10.1.2.3", workspace_id=other_agent.workspace_id) is None
    assert ip_block_for("10.1.2.3") is None


def test_each_agent_has_its_own_stamp(agent: Agent, other_agent: Agent) -> None:
    assert agent_stamp(agent.public_id) != agent_stamp(other_agent.public_id)
    before = widget_snapshot(other_agent.public_id)
    widget_draft_update(agent=agent, values={"allowedDomains": ["x.example.com"]})
    after = widget_snapshot(other_agent.public_id)
    assert before is not None and after is not None and before.stamp == after.stamp
