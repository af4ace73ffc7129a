"""The integrator API for customers, seen by the owner, the teammate and the outsider."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from agents.models import Agent
from conversations.models import Conversation
from customers.models import Customer, CustomerMemory
from security.models import AuditEntry
from workspaces.models import Workspace

NOT_FOUND = {"error": {"code": "not_found", "message": "Not found."}}


def api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def customer_url(customer: Customer, rest: str = "") -> str:
    return f"/api/v2/customers/{customer.pk}{rest}"


def ids(response: Any) -> list[int]:
    return [row["id"] for row in response.json()["results"]]


def remember(customer: Customer, key: str, value: str, source: str = "signed") -> CustomerMemory:
    return CustomerMemory.objects.create(
        customer=customer, key=key, value=value, source=source, source_ref="token"
    )


def converse(agent: Agent, customer: Customer | None, visitor_id: str) -> Conversation:
    return Conversation.objects.create(agent=agent, visitor_id=visitor_id, customer=customer)


@pytest.fixture
def ada(workspace: Workspace) -> Customer:
    return Customer.objects.create(
        workspace=workspace,
        external_id="user-1001",
        is_verified=True,
        email="ada@example.com",
        name="Ada Lovelace",
        attributes={"plan": "pro"},
    )


@pytest.fixture
def guest(workspace: Workspace) -> Customer:
    return Customer.objects.create(
        workspace=workspace, external_id="user-1001", email="claims@example.net", name="Maybe Ada"
    )


@pytest.fixture
def globex_customer(other_workspace: Workspace) -> Customer:
    return Customer.objects.create(
        workspace=other_workspace,
        external_id="gx-7",
        is_verified=True,
        email="hank@globex.example",
        name="Hank Scorpio",
    )


@pytest.mark.django_db
class TestCustomerList:
    def test_owner_lists_only_their_workspaces_customers(
        self, owner, ada, guest, globex_customer
    ) -> None:
        response = api(owner).get("/api/v2/customers/")
        assert response.status_code == 200
        assert ids(response) == [guest.pk, ada.pk]  # newest first
        assert "Hank Scorpio" not in response.content.decode()

    def test_teammate_sees_the_same_customers(self, teammate, ada, globex_customer) -> None:
        assert ids(api(teammate).get("/api/v2/customers/")) == [ada.pk]

    def test_it_shows_each_customer_in_camel_case(self, owner, agent, ada) -> None:
        converse(agent, ada, "vis_aaaaaaaaaaaaaaaa")
        row = api(owner).get("/api/v2/customers/").json()["results"][0]
        assert row["externalId"] == "user-1001"
        assert row["verified"] is True
        assert row["workspace"] == "acme"
        assert row["conversationCount"] == 1
        assert row["createdAt"].endswith("Z")
        assert row["lastSeenAt"] is None

    @pytest.mark.parametrize(("value", "expected"), [("true", "ada"), ("false", "guest")])
    def test_it_filters_by_verified(self, owner, ada, guest, value, expected) -> None:
        response = api(owner).get("/api/v2/customers/", {"verified": value})
        assert ids(response) == [{"ada": ada, "guest": guest}[expected].pk]

    def test_it_rejects_a_verified_filter_that_is_not_a_boolean(self, owner, ada) -> None:
        response = api(owner).get("/api/v2/customers/", {"verified": "maybe"})
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "invalid_request"

    @pytest.mark.parametrize("search", ["LOVELACE", "ada@example", "r-100"])
    def test_it_searches_external_id_email_and_name(self, owner, ada, search) -> None:
        assert ids(api(owner).get("/api/v2/customers/", {"q": search})) == [ada.pk]

    def test_search_finds_nothing_in_other_workspaces(self, owner, ada, globex_customer) -> None:
        assert ids(api(owner).get("/api/v2/customers/", {"q": "Scorpio"})) == []

    def test_it_filters_by_workspace_slug(self, owner, ada, other_workspace) -> None:
        client = api(owner)
        assert ids(client.get("/api/v2/customers/", {"workspace": "acme"})) == [ada.pk]
        # Another workspace's slug is just an empty list: nothing confirms it exists.
        assert ids(client.get("/api/v2/customers/", {"workspace": "globex"})) == []

    def test_it_paginates_with_limit_and_offset(self, owner, ada, guest) -> None:
        page = api(owner).get("/api/v2/customers/", {"limit": 1, "offset": 1}).json()
        assert page["count"] == 2
        assert [row["id"] for row in page["results"]] == [ada.pk]
        assert page["previous"] is not None

    def test_a_superuser_sees_every_workspace(
        self, django_user_model, ada, globex_customer
    ) -> None:
        root = django_user_model.objects.create_superuser("root", "root@example.com", "pw")
        assert set(ids(api(root).get("/api/v2/customers/"))) == {ada.pk, globex_customer.pk}


@pytest.mark.django_db
class TestCustomerDetail:
    def test_owner_reads_a_customer(self, owner, ada) -> None:
        response = api(owner).get(customer_url(ada))
        assert response.status_code == 200
        assert set(response.json()) == {
            "id",
            "workspace",
            "externalId",
            "verified",
            "email",
            "name",
            "attributes",
            "createdAt",
            "lastSeenAt",
            "conversationCount",
        }
        assert response.json()["attributes"] == {"plan": "pro"}

    def test_an_unknown_id_is_not_found(self, owner, ada) -> None:
        for url in ("/api/v2/customers/999999999", "/api/v2/customers/not-a-number"):
            response = api(owner).get(url)
            assert response.status_code == 404
            assert response.json() == NOT_FOUND

    def test_teammate_corrects_name_email_and_attributes(self, teammate, ada) -> None:
        response = api(teammate).patch(
            customer_url(ada),
            {"name": "Ada King", "email": "ada@king.example", "attributes": {"plan": "team"}},
            format="json",
        )
        assert response.status_code == 200
        assert response.json()["name"] == "Ada King"
        ada.refresh_from_db()
        assert (ada.name, ada.email, ada.attributes) == (
            "Ada King",
            "ada@king.example",
            {"plan": "team"},
        )

    @pytest.mark.parametrize(
        "change", [{"verified": False}, {"externalId": "user-2"}, {"external_id": "user-2"}]
    )
    def test_patch_cannot_change_what_signed_tokens_decide(self, owner, ada, change) -> None:
        response = api(owner).patch(customer_url(ada), {"name": "X", **change}, format="json")
        assert response.status_code == 400
        assert set(response.json()["error"]["fields"]) == set(change)
        ada.refresh_from_db()
        assert (ada.external_id, ada.is_verified, ada.name) == ("user-1001", True, "Ada Lovelace")

    @pytest.mark.parametrize(
        "attributes", [{"address": {"city": "London"}}, ["plan"], {"a": "x" * 1001}]
    )
    def test_patch_refuses_attributes_a_token_could_not_carry(self, owner, ada, attributes) -> None:
        response = api(owner).patch(customer_url(ada), {"attributes": attributes}, format="json")
        assert response.status_code == 400
        assert "attributes" in response.json()["error"]["fields"]

    def test_patch_refuses_an_invalid_email(self, owner, ada) -> None:
        response = api(owner).patch(customer_url(ada), {"email": "not-an-email"}, format="json")
        assert response.status_code == 400

    def test_put_is_not_offered(self, owner, ada) -> None:
        response = api(owner).put(customer_url(ada), {"name": "X"}, format="json")
        assert response.status_code == 405

    def test_owner_erases_a_customer_and_their_memory_but_keeps_conversations(
        self, owner, agent, ada
    ) -> None:
        conversation = converse(agent, ada, "vis_aaaaaaaaaaaaaaaa")
        remember(ada, "plan", "pro")
        response = api(owner).delete(customer_url(ada))
        assert response.status_code == 204
        assert not Customer.objects.filter(pk=ada.pk).exists()
        assert not CustomerMemory.objects.filter(customer_id=ada.pk).exists()
        conversation.refresh_from_db()
        assert conversation.customer is None
        entry = AuditEntry.objects.get(action="customer.erased")
        assert entry.actor == owner
        assert entry.changes == {"verified": True, "memories": 1, "conversationsUnlinked": 1}
        assert "ada" not in str(entry.changes).lower() and "user-1001" not in entry.target

    def test_teammate_may_not_erase_a_customer(self, teammate, ada) -> None:
        response = api(teammate).delete(customer_url(ada))
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "forbidden"
        assert Customer.objects.filter(pk=ada.pk).exists()


@pytest.mark.django_db
class TestOutsider:
    @pytest.fixture
    def fact(self, ada) -> CustomerMemory:
        return remember(ada, "shoe_size", "38")

    @pytest.mark.parametrize(
        ("method", "path", "body"),
        [
            ("get", "", None),
            ("patch", "", {"name": "Pwned"}),
            ("delete", "", None),
            ("get", "/conversations", None),
            ("get", "/memory", None),
            ("post", "/memory", {"key": "note", "value": "pwned"}),
        ],
    )
    def test_it_gets_404_for_another_workspaces_customer(
        self, outsider, agent, ada, fact, method, path, body
    ) -> None:
        converse(agent, ada, "vis_aaaaaaaaaaaaaaaa")
        response = getattr(api(outsider), method)(customer_url(ada, path), body, format="json")
        assert response.status_code == 404
        assert response.json() == NOT_FOUND
        ada.refresh_from_db()
        assert ada.name == "Ada Lovelace"
        assert list(ada.memories.values_list("key", flat=True)) == ["shoe_size"]

    @pytest.mark.parametrize(("method", "body"), [("patch", {"value": "45"}), ("delete", None)])
    def test_it_gets_404_for_another_workspaces_memory(
        self, outsider, ada, fact, method, body
    ) -> None:
        url = customer_url(ada, f"/memory/{fact.pk}")
        response = getattr(api(outsider), method)(url, body, format="json")
        assert response.status_code == 404
        assert response.json() == NOT_FOUND
        fact.refresh_from_db()
        assert fact.value == "38"

    def test_it_cannot_reach_a_fact_through_its_own_customer(
        self, outsider, globex_customer, fact
    ) -> None:
        url = customer_url(globex_customer, f"/memory/{fact.pk}")
        assert api(outsider).delete(url).status_code == 404
        assert CustomerMemory.objects.filter(pk=fact.pk).exists()


@pytest.mark.django_db
class TestCustomerConversations:
    def test_it_lists_only_the_customers_conversations(self, owner, agent, ada, guest) -> None:
        theirs = converse(agent, ada, "vis_aaaaaaaaaaaaaaaa")
        theirs.csat_score = 5
        theirs.save()
        converse(agent, guest, "vis_bbbbbbbbbbbbbbbb")
        converse(agent, None, "vis_cccccccccccccccc")
        response = api(owner).get(customer_url(ada, "/conversations"))
        assert response.status_code == 200
        assert response.json()["results"] == [
            {
                "publicId": theirs.public_id,
                "status": "bot",
                "agentId": agent.public_id,
                "createdAt": response.json()["results"][0]["createdAt"],
                "lastMessageAt": None,
                "csatScore": 5,
            }
        ]


@pytest.mark.django_db
class TestCustomerMemory:
    def test_it_lists_facts_from_every_source(self, teammate, ada) -> None:
        remember(ada, "plan", "pro", source="signed")
        remember(ada, "plan", "free", source="claimed")
        remember(ada, "tone", "formal", source="conversation")
        rows = api(teammate).get(customer_url(ada, "/memory")).json()["results"]
        assert [(r["key"], r["source"], r["value"]) for r in rows] == [
            ("plan", "claimed", "free"),
            ("plan", "signed", "pro"),
            ("tone", "conversation", "formal"),
        ]
        assert set(rows[0]) == {
            "id",
            "key",
            "value",
            "source",
            "sourceRef",
            "createdAt",
            "updatedAt",
        }

    def test_staff_facts_are_marked_staff_with_the_username(self, teammate, ada) -> None:
        response = api(teammate).post(
            customer_url(ada, "/memory"), {"key": "vip", "value": "yes"}, format="json"
        )
        assert response.status_code == 201
        body = response.json()
        assert (body["key"], body["value"], body["source"], body["sourceRef"]) == (
            "vip",
            "yes",
            "staff",
            "teammate",
        )
        assert ada.memories.get(pk=body["id"]).source == CustomerMemory.Source.STAFF

    def test_staff_cannot_pose_as_another_source(self, owner, ada) -> None:
        response = api(owner).post(
            customer_url(ada, "/memory"),
            {"key": "plan", "value": "enterprise", "source": "signed"},
            format="json",
        )
        assert response.status_code == 400
        assert not ada.memories.exists()

    def test_the_same_staff_key_again_replaces_the_value(self, owner, ada) -> None:
        client = api(owner)
        client.post(customer_url(ada, "/memory"), {"key": "vip", "value": "yes"}, format="json")
        client.post(customer_url(ada, "/memory"), {"key": "vip", "value": "no"}, format="json")
        assert list(ada.memories.values_list("key", "value")) == [("vip", "no")]

    @pytest.mark.parametrize("body", [{"key": "", "value": "x"}, {"key": "k", "value": "x" * 2001}])
    def test_it_refuses_an_empty_key_or_an_overlong_value(self, owner, ada, body) -> None:
        response = api(owner).post(customer_url(ada, "/memory"), body, format="json")
        assert response.status_code == 400
        assert not ada.memories.exists()

    def test_patch_changes_the_value_only(self, teammate, ada) -> None:
        fact = remember(ada, "plan", "pro")
        url = customer_url(ada, f"/memory/{fact.pk}")
        response = api(teammate).patch(url, {"value": "team"}, format="json")
        assert response.status_code == 200
        assert (response.json()["value"], response.json()["source"]) == ("team", "signed")
        refused = api(teammate).patch(url, {"value": "x", "key": "tier"}, format="json")
        assert refused.status_code == 400
        fact.refresh_from_db()
        assert (fact.key, fact.value, fact.source) == ("plan", "team", "signed")

    def test_delete_removes_a_fact_of_any_source(self, teammate, ada) -> None:
        fact = remember(ada, "plan", "pro", source="signed")
        response = api(teammate).delete(customer_url(ada, f"/memory/{fact.pk}"))
        assert response.status_code == 204
        assert not ada.memories.exists()

    def test_a_fact_is_only_reachable_under_its_own_customer(self, owner, ada, guest) -> None:
        fact = remember(guest, "plan", "free", source="claimed")
        response = api(owner).delete(customer_url(ada, f"/memory/{fact.pk}"))
        assert response.status_code == 404
        assert CustomerMemory.objects.filter(pk=fact.pk).exists()


@pytest.mark.django_db
class TestAnonymous:
    @pytest.mark.parametrize(
        ("method", "path"),
        [
            ("get", "/api/v2/customers/"),
            ("get", "/api/v2/customers/{id}"),
            ("patch", "/api/v2/customers/{id}"),
            ("delete", "/api/v2/customers/{id}"),
            ("get", "/api/v2/customers/{id}/conversations"),
            ("get", "/api/v2/customers/{id}/memory"),
            ("post", "/api/v2/customers/{id}/memory"),
        ],
    )
    def test_anonymous_callers_get_401(self, ada, method, path) -> None:
        response = getattr(APIClient(), method)(path.format(id=ada.pk), {}, format="json")
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "not_authenticated"
        assert Customer.objects.filter(pk=ada.pk).exists()


@pytest.mark.django_db
def test_the_schema_describes_the_customer_endpoints(owner) -> None:
    response = api(owner).get("/api/v2/schema/")
    assert response.status_code == 200
    assert b"/api/v2/customers/{customer_id}/memory/{memory_id}" in response.content
