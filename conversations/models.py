from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from customers.sessions import conversation_owner_key
from security.ids import new_conversation_id, new_message_id


class Conversation(models.Model):
    class Status(models.TextChoices):
        BOT = "bot", "Bot"
        WAITING = "waiting", "Waiting for a person"
        ASSIGNED = "assigned", "Assigned"
        RESOLVED = "resolved", "Resolved"

    workspace_path = "agent__workspace"

    public_id = models.CharField(
        max_length=40, unique=True, default=new_conversation_id, editable=False
    )
    agent = models.ForeignKey(
        "agents.Agent", on_delete=models.CASCADE, related_name="conversations"
    )
    # The browser the conversation started in (or was last linked from).
    visitor_id = models.CharField(max_length=64)
    # Whose it is: "c-<customer pk>" for a verified customer (every device of theirs),
    # "v-<visitor id>" otherwise (customers.sessions.conversation_owner_key).
    owner_key = models.CharField(max_length=80)
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="conversations",
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.BOT)
    origin = models.CharField(max_length=255, blank=True)
    page_url = models.URLField(max_length=2000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_message_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    csat_score = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="The visitor's rating, 1 (bad) to 5 (great)."
    )
    csat_comment = models.TextField(blank=True)
    # Handoff (conversations.handoff): who holds it, why it left the bot, who resolved it.
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_conversations",
    )
    handoff_reason = models.CharField(max_length=40, blank=True)
    handed_off_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.CharField(
        max_length=8, blank=True, choices=[("bot", "Bot"), ("human", "A person")]
    )

    class Meta:
        ordering = ["-updated_at"]
        constraints = [
            # At most one open conversation per visitor and agent, even when tabs race.
            models.UniqueConstraint(
                fields=["agent", "owner_key"],
                condition=~models.Q(status="resolved"),
                name="uniq_open_conversation_owner",
            )
        ]
        indexes = [
            # The widget's "this visitor's current conversation" lookup.
            models.Index(fields=["agent", "owner_key", "-updated_at"], name="conv_agent_owner"),
            models.Index(fields=["agent", "visitor_id", "-updated_at"], name="conv_agent_visitor"),
            models.Index(fields=["agent", "status", "-updated_at"], name="conv_agent_status"),
        ]

    def __str__(self) -> str:
        return self.public_id

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self.owner_key:
            self.owner_key = conversation_owner_key(visitor_id=self.visitor_id, customer_id=None)
        super().save(*args, **kwargs)


class Message(models.Model):
    class Role(models.TextChoices):
        CUSTOMER = "customer", "Customer"
        AGENT = "agent", "Agent"
        STAFF = "staff", "Staff"
        SYSTEM = "system", "System"
        # Internal notes between staff: never sent to the widget, the API's visitor views
        # or a model.
        NOTE = "note", "Internal note"

    workspace_path = "conversation__agent__workspace"

    public_id = models.CharField(max_length=40, unique=True, default=new_message_id, editable=False)
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    role = models.CharField(max_length=16, choices=Role.choices)
    text = models.TextField()
    # The id the widget generated; makes a retried send idempotent.
    client_id = models.CharField(max_length=64, null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    # The staff member who wrote a staff reply or note.
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "client_id"],
                condition=models.Q(client_id__isnull=False),
                name="uniq_message_client_id",
            )
        ]
        indexes = [
            models.Index(fields=["conversation", "id"], name="message_conv_order"),
            # The sweep for lost answers reads recent visitor messages (conversations.recovery).
            models.Index(
                fields=["created_at"],
                condition=models.Q(role="customer"),
                name="message_customer_recent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.role}: {self.text[:60]}"
