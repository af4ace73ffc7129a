"""Hostile traffic: floods, spoofed addresses, blocked networks, deep and oversized bodies."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from conftest import SITE_ORIGIN
from security.client_ip import client_ip
from security.models import IpBlock
from security.ratelimit import Limit, rate_limit_hit

SESSION_URL = "/api/v2/widget/session"


def start(client: Client, agent: Any, **extra: Any) -> Any:
    return client.post(
        SESSION_URL,
        data=json.dumps({"agentId": agent.public_id}),
        content_type="application/json",
        HTTP_ORIGIN=SITE_ORIGIN,
        **extra,
    )


def test_a_hundred_concurrent_hits_against_a_limit_of_ten_let_ten_through() -> None:
    limit = Limit(name="race", rate=10, window=60)
    with ThreadPoolExecutor(max_workers=20) as pool:
        decisions = list(pool.map(lambda _: rate_limit_hit(limit, "office"), range(100)))
    assert sum(d.allowed for d in decisions) == 10
    refused = [d for d in decisions if not d.allowed]
    assert all(1 <= d.retry_after <= 60 for d in refused)


def test_limits_count_each_key_separately() -> None:
    limit = Limit(name="keys", rate=1, window=60)
    assert rate_limit_hit(limit, "a").allowed
    assert rate_limit_hit(limit, "b").allowed
    assert not rate_limit_hit(limit, "a").allowed


@pytest.mark.django_db
class TestSessionLimits:
    def test_too_many_sessions_from_one_address_get_429_with_retry_after(
        self, client, agent
    ) -> None:
        statuses = [start(client, agent).status_code for _ in range(31)]
        assert statuses[:30] == [200] * 30
        refused = start(client, agent)
        assert refused.status_code == 429
        assert refused.json()["error"]["code"] == "rate_limited"
        assert 1 <= int(refused["Retry-After"]) <= 60
        assert refused["Access-Control-Allow-Origin"] == SITE_ORIGIN  # the widget can read it

    def test_an_agent_can_raise_its_per_domain_limit(self, client, agent) -> None:
        config = agent.widget_config
        config.rate_limits = {"session_per_agent_domain": 2}
        config.save()
        codes = [start(client, agent).status_code for _ in range(3)]
        assert codes == [200, 200, 429]


class TestClientIp:
    def test_without_trusted_proxies_forwarded_headers_are_ignored(self) -> None:
        assert client_ip("198.51.100.7", "1.2.3.4") == "198.51.100.7"

    @override_settings(TRUSTED_PROXIES=["10.0.0.0/8"])
    def test_behind_a_trusted_proxy_the_last_untrusted_hop_is_the_client(self) -> None:
        # The visitor prepended 1.2.3.4; our proxy appended the address it really saw.
        assert client_ip("10.0.0.5", "1.2.3.4, 203.0.113.9") == "203.0.113.9"
        assert client_ip("10.0.0.5", "203.0.113.9, 10.0.0.7") == "203.0.113.9"

    @override_settings(TRUSTED_PROXIES=["10.0.0.0/8"])
    def test_a_spoofed_header_from_an_untrusted_peer_is_ignored(self) -> None:
        assert client_ip("198.51.100.7", "10.0.0.1") == "198.51.100.7"

    @override_settings(TRUSTED_PROXIES=["10.0.0.0/8"])
    def test_a_malformed_chain_is_not_believed(self) -> None:
        assert client_ip("10.0.0.5", "203.0.113.9, garbage") == "10.0.0.5"

    def test_garbage_peers_do_not_crash(self) -> None:
        assert client_ip(None, None) == "0.0.0.0"
        assert client_ip("[::1]", None) == "::1"


@pytest.mark.django_db
class TestIpBlocks:
    def test_a_blocked_address_is_refused(self, client, agent) -> None:
        IpBlock.objects.create(network="127.0.0.1", reason="spam")
        response = start(client, agent)
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "ip_blocked"

    def test_a_blocked_network_is_refused(self, client, agent) -> None:
        IpBlock.objects.create(network="127.0.0.0/24", reason="botnet")
        assert start(client, agent).status_code == 403

    def test_an_expired_block_no_longer_applies(self, client, agent) -> None:
        IpBlock.objects.create(
            network="127.0.0.1", reason="old", expires_at=timezone.now() - timedelta(minutes=1)
        )
        assert start(client, agent).status_code == 200

    def test_removing_a_block_takes_effect_at_once(self, client, agent) -> None:
        block = IpBlock.objects.create(network="127.0.0.1", reason="spam")
        assert start(client, agent).status_code == 403
        block.delete()
        assert start(client, agent).status_code == 200

    def test_a_workspace_block_applies_only_to_that_workspace(
        self, client, agent, other_agent
    ) -> None:
        IpBlock.objects.create(network="127.0.0.1", reason="x", workspace=other_agent.workspace)
        assert start(client, agent).status_code == 200

    @override_settings(TRUSTED_PROXIES=["127.0.0.1/32"])
    def test_blocks_apply_to_the_forwarded_client_behind_a_trusted_proxy(
        self, client, agent
    ) -> None:
        IpBlock.objects.create(network="203.0.113.0/24", reason="abuse")
        assert start(client, agent, HTTP_X_FORWARDED_FOR="203.0.113.50").status_code == 403
        assert start(client, agent, HTTP_X_FORWARDED_FOR="198.51.100.1").status_code == 200


@pytest.mark.django_db
class TestBodies:
    def post(self, client: Client, body: bytes) -> Any:
        return client.post(
            SESSION_URL, data=body, content_type="application/json", HTTP_ORIGIN=SITE_ORIGIN
        )

    def test_deeply_nested_json_is_refused(self, client, agent) -> None:
        nested = {"agentId": agent.public_id, "x": [[[[[[[[[[1]]]]]]]]]]}
        response = self.post(client, json.dumps(nested).encode())
        assert response.status_code == 400
        assert "nests deeper" in response.json()["error"]["message"]

    def test_pathological_nesting_is_a_400_not_a_crash(self, client, agent) -> None:
        response = self.post(client, b"[" * 15000)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "invalid_request"

    def test_a_wrong_content_type_is_refused(self, client, agent) -> None:
        response = client.post(
            SESSION_URL, data="agentId=x", content_type="application/xml", HTTP_ORIGIN=SITE_ORIGIN
        )
        assert response.status_code == 400


@pytest.mark.django_db
def test_a_site_behind_one_office_address_can_raise_its_per_address_limit(client, agent) -> None:
    config = agent.widget_config
    config.rate_limits = {"session_per_ip": 100}
    config.save()
    assert all(start(client, agent).status_code == 200 for _ in range(40))


@pytest.mark.django_db
def test_guessing_agent_ids_counts_against_the_address(client, agent) -> None:
    for index in range(30):
        response = client.post(
            SESSION_URL,
            data=json.dumps({"agentId": f"agt_guess{index:011d}"}),
            content_type="application/json",
            HTTP_ORIGIN=SITE_ORIGIN,
        )
        assert response.status_code == 404
    assert start(client, agent).status_code == 429
