"""The staff inbox websocket: who may connect, what they see, what they can do — and a
conversation handed over live between the visitor's widget and a person."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from config.asgi import application
from conversations.models import Conversation, Message
from conversations.tests.test_consumer import frames_until, ready
from workspaces.models import Membership

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("celery_worker")]

HOST = "localhost:8000"
PLATFORM = f"http://{HOST}"


def session_cookie(user: Any) -> str:
    client = Client()
    client.force_login(user)
    return str(client.cookies[settings.SESSION_COOKIE_NAME].value)


async def inbox_socket(
    user: Any = None, *, origin: str = PLATFORM, host: str = HOST
) -> WebsocketCommunicator:
    headers = [(b"origin", origin.encode()), (b"host", host.encode())]
    if user is not None:
        cookie = await sync_to_async(session_cookie)(user)
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()))
    communicator = WebsocketCommunicator(application, "/ws/inbox/", headers=headers)
    connected, _ = await communicator.connect(timeout=5)
    assert connected  # accepted, so that a refusal's close code reaches the browser
    return communicator


async def close_code(communicator: WebsocketCommunicator) -> int:
    output = await communicator.receive_output(timeout=5)
    assert output["type"] == "websocket.close"
    # The browser's side of the close: the consumer ends here, through its disconnect, not
    # by being cancelled at the end of the test's event loop.
    await communicator.disconnect()
    return int(output["code"])


async def inbox_ready(user: Any) -> tuple[WebsocketCommunicator, dict[str, Any]]:
    communicator = await inbox_socket(user)
    frame = await communicator.receive_json_from(timeout=5)
    assert frame["type"] == "inbox.ready"
    return communicator, frame


async def command(communicator: WebsocketCommunicator, **frame: Any) -> dict[str, Any]:
    """Send a command; the sender's own answer (done or error) comes back with its ref."""
    await communicator.send_json_to({**frame, "ref": frame["type"]})
    frames = await frames_until(
        communicator, lambda f: f.get("ref") == frame["type"] and f["type"] != "message"
    )
    return frames[-1]


async def no_frame(communicator: WebsocketCommunicator, wait: float = 1.0) -> None:
    assert await communicator.receive_nothing(timeout=wait)


# --- Who may connect ---------------------------------------------------------------------


async def test_an_anonymous_user_is_refused_with_4401() -> None:
    assert await close_code(await inbox_socket()) == 4401


async def test_a_foreign_origin_is_refused_even_with_a_staff_cookie(owner) -> None:
    # A page on another site opening the socket: the browser sends the admin cookie along.
    for origin in ("https://evil.example", "http://localhost:8001", "null"):
        assert await close_code(await inbox_socket(owner, origin=origin)) == 4403


async def test_a_host_outside_allowed_hosts_is_refused(owner) -> None:
    socket = await inbox_socket(owner, origin="http://rebound.example", host="rebound.example")
    assert await close_code(socket) == 4403


async def test_a_member_who_is_not_staff_is_refused(workspace) -> None:
    def member() -> Any:
        user = get_user_model().objects.create_user(username="clerk", password="pw-clerk")
        Membership.objects.create(workspace=workspace, user=user)
        return user

    user = await sync_to_async(member)()
    assert await close_code(await inbox_socket(user)) == 4403


async def test_staff_of_no_workspace_are_refused() -> None:
    user = await sync_to_async(get_user_model().objects.create_user)(
        username="drifter", password="pw-drifter", is_staff=True
    )
    assert await close_code(await inbox_socket(user)) == 4403


# --- What each person sees ----------------------------------------------------------------


async def test_the_list_shows_waiting_first_and_only_my_workspaces(
    owner, agent, other_agent
) -> None:
    def conversations() -> None:
        Conversation.objects.create(agent=agent, visitor_id="vis_bot00000000001")
        Conversation.objects.create(agent=agent, visitor_id="vis_wait0000000001", status="waiting")
        Conversation.objects.create(agent=agent, visitor_id="vis_done0000000001", status="resolved")
        Conversation.objects.create(agent=other_agent, visitor_id="vis_globex00000001")

    await sync_to_async(conversations)()
    communicator, ready_frame = await inbox_ready(owner)
    rows = ready_frame["conversations"]
    assert [(r["visitorId"], r["status"]) for r in rows] == [
        ("vis_wait0000000001", "waiting"),
        ("vis_bot00000000001", "bot"),
    ]
    assert ready_frame["user"]["name"] == "owner"
    await communicator.disconnect()


async def test_an_outsider_neither_hears_nor_touches_another_workspaces_chats(
    owner, outsider, agent
) -> None:
    insider, _ = await inbox_ready(owner)
    stranger, _ = await inbox_ready(outsider)
    visitor, _ = await ready(agent)
    await visitor.send_json_to({"type": "message.send", "clientId": "c-1", "text": "Hello?"})
    seen = await frames_until(insider, lambda f: f["type"] == "message")
    conversation_id = seen[-1]["conversationId"]
    await no_frame(stranger)
    for kind in ("open", "take", "release", "resolve", "note", "reply"):
        answer = await command(stranger, type=kind, conversationId=conversation_id, text="x")
        assert (answer["type"], answer["code"]) == ("error", "not_found"), kind
    conversation = await sync_to_async(Conversation.objects.get)(public_id=conversation_id)
    assert conversation.status == "bot" and conversation.assigned_to_id is None
    assert not await sync_to_async(
        Message.objects.filter(conversation=conversation, role__in=["note", "staff"]).exists
    )()
    for socket in (insider, stranger, visitor):
        await socket.disconnect()


async def test_opening_shows_the_transcript_customer_memory_and_page(teammate, agent) -> None:
    def conversation() -> Conversation:
        from customers.models import Customer, CustomerMemory

        ana = Customer.objects.create(
            workspace=agent.workspace, external_id="u-ana", is_verified=True, name="Ana"
        )
        CustomerMemory.objects.create(customer=ana, key="plan", value="pro", source="signed")
        found = Conversation.objects.create(
            agent=agent,
            visitor_id="vis_ana00000000001",
            customer=ana,
            page_url="https://shop.example.com/cart",
            origin="https://shop.example.com",
        )
        Message.objects.create(conversation=found, role="customer", text="<b>hi</b>")
        Message.objects.create(conversation=found, role="note", text="VIP, be nice")
        return found

    found = await sync_to_async(conversation)()
    communicator, _ = await inbox_ready(teammate)
    detail = await command(communicator, type="open", conversationId=found.public_id)
    assert detail["type"] == "conversation.detail"
    assert [(m["role"], m["text"]) for m in detail["messages"]] == [
        ("customer", "<b>hi</b>"),
        ("note", "VIP, be nice"),
    ]
    assert detail["customer"] == {"id": "u-ana", "name": "Ana", "email": "", "verified": True}
    assert [(f["key"], f["value"]) for f in detail["facts"]] == [("plan", "pro")]
    assert detail["page"] == {
        "url": "https://shop.example.com/cart",
        "origin": "https://shop.example.com",
    }
    await communicator.disconnect()


# --- The whole handoff, live -----------------------------------------------------------


async def test_a_person_takes_over_replies_notes_releases_and_the_bot_resumes(
    owner, teammate, agent
) -> None:
    staff, _ = await inbox_ready(owner)
    colleague, _ = await inbox_ready(teammate)
    visitor, _ = await ready(agent)

    await visitor.send_json_to(
        {"type": "message.send", "clientId": "c-1", "text": "Can I talk to a real person?"}
    )
    frames = await frames_until(visitor, lambda f: f.get("status") == "waiting")
    frames += await frames_until(visitor, lambda f: f.get("role") == "system")
    assert "Connecting you with a person" in frames[-1]["text"]
    assert not [f for f in frames if f.get("role") == "agent"]  # the bot stays silent
    update = await frames_until(
        staff, lambda f: f["type"] == "conversation" and f["conversation"]["status"] == "waiting"
    )
    conversation_id = update[-1]["conversation"]["id"]
    assert update[-1]["conversation"]["handoffReason"] == "visitor_asked"

    # The visitor types; the inbox sees it.
    await visitor.send_json_to({"type": "typing", "state": True})
    typing = await frames_until(staff, lambda f: f["type"] == "typing")
    assert typing[-1] == {
        "type": "typing",
        "conversationId": conversation_id,
        "role": "customer",
        "state": True,
    }

    assert (await command(staff, type="take", conversationId=conversation_id))["type"] == "done"
    await frames_until(visitor, lambda f: f.get("status") == "assigned")
    # A colleague cannot take it from under them without saying so.
    refused = await command(colleague, type="take", conversationId=conversation_id)
    assert refused["code"] == "conflict"

    await staff.send_json_to({"type": "typing", "conversationId": conversation_id, "state": True})
    typing = await frames_until(visitor, lambda f: f["type"] == "typing")
    assert typing[-1] == {"type": "typing", "role": "staff", "state": True}

    text = "Hi, I'm here. My card is 4242 4242 4242 4242 for the test."
    await command(staff, type="reply", conversationId=conversation_id, text=text)
    reply = await frames_until(visitor, lambda f: f.get("role") == "staff")
    assert reply[-1]["text"] == text  # staff text is not PII-masked

    await command(staff, type="note", conversationId=conversation_id, text="refund approved")
    note = await frames_until(
        colleague, lambda f: f["type"] == "message" and f["message"]["role"] == "note"
    )
    assert note[-1]["message"]["author"]["name"] == "owner"

    # While a person holds it, the visitor's messages get no bot answer.
    await visitor.send_json_to(
        {"type": "message.send", "clientId": "c-2", "text": "How long does express shipping take?"}
    )
    await frames_until(
        staff, lambda f: f["type"] == "message" and f["message"]["role"] == "customer"
    )
    await asyncio.sleep(1.5)
    roles = await sync_to_async(
        lambda: list(
            Message.objects.filter(conversation__public_id=conversation_id).values_list(
                "role", flat=True
            )
        )
    )()
    assert "agent" not in roles and "note" in roles

    await command(staff, type="release", conversationId=conversation_id)
    await frames_until(visitor, lambda f: f.get("status") == "bot")
    await visitor.send_json_to(
        {"type": "message.send", "clientId": "c-3", "text": "How long does express shipping take?"}
    )
    answer = await frames_until(visitor, lambda f: f.get("role") == "agent", limit=30)
    assert "1-2 business days" in answer[-1]["text"]
    for socket in (staff, colleague, visitor):
        await socket.disconnect()


async def test_resolving_records_a_human_resolution_and_the_widget_asks_for_a_rating(
    owner, agent
) -> None:
    staff, _ = await inbox_ready(owner)
    visitor, _ = await ready(agent)
    await visitor.send_json_to({"type": "message.send", "clientId": "c-1", "text": "human please"})
    waiting = await frames_until(
        staff, lambda f: f["type"] == "conversation" and f["conversation"]["status"] == "waiting"
    )
    conversation_id = waiting[-1]["conversation"]["id"]
    await command(staff, type="reply", conversationId=conversation_id, text="Done for you.")
    await command(staff, type="resolve", conversationId=conversation_id)
    await frames_until(visitor, lambda f: f.get("status") == "resolved")
    await visitor.send_json_to(
        {"type": "csat", "conversationId": conversation_id, "score": 5, "comment": "great"}
    )
    await frames_until(visitor, lambda f: f["type"] == "csat.ack")
    conversation = await sync_to_async(Conversation.objects.get)(public_id=conversation_id)
    assert (conversation.status, conversation.resolved_by, conversation.csat_score) == (
        "resolved",
        "human",
        5,
    )
    again = await command(staff, type="reply", conversationId=conversation_id, text="one more")
    assert again["code"] == "invalid_request"
    for socket in (staff, visitor):
        await socket.disconnect()


async def test_bad_frames_get_typed_errors(owner) -> None:
    communicator, _ = await inbox_ready(owner)
    await communicator.send_to(text_data="not json")
    assert (await communicator.receive_json_from(timeout=5))["code"] == "invalid_frame"
    await communicator.send_json_to({"type": "dance"})
    assert (await communicator.receive_json_from(timeout=5))["code"] == "unknown_type"
    empty = await command(communicator, type="reply", conversationId="cnv_nope", text=" ")
    assert empty["code"] == "invalid_request"
    await communicator.disconnect()


async def test_an_inbox_left_idle_still_hears_news(owner, agent) -> None:
    # Longer than the channel layer's 5 s blocking read: a socket idle that long must live.
    staff, _ = await inbox_ready(owner)
    await asyncio.sleep(7)
    visitor, _ = await ready(agent)
    await visitor.send_json_to({"type": "message.send", "clientId": "c-1", "text": "Anyone?"})
    news = await frames_until(staff, lambda f: f["type"] == "message")
    assert news[-1]["message"]["text"] == "Anyone?"
    for socket in (staff, visitor):
        await socket.disconnect()
