from __future__ import annotations

from django.conf import settings
from django.db import models

from security.ids import new_agent_id


class Workspace(models.Model):
    """The tenant: a company using CustomerAgent. Everything else belongs to one."""

    workspace_path = ""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        ADMIN = "admin", "Admin"
        AGENT = "agent", "Support agent"

    workspace_path = "workspace"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.AGENT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "user"], name="uniq_membership")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.workspace} ({self.role})"


class Agent(models.Model):
    """An AI support agent; its public id is what customer sites embed."""

    workspace_path = "workspace"

    public_id = models.CharField(max_length=40, unique=True, default=new_agent_id, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="agents")
    name = models.CharField(max_length=120)
    greeting = models.CharField(max_length=500, blank=True, default="Hi! How can I help you today?")
    avatar_url = models.URLField(blank=True)
    is_active = models.BooleanField(default=True)
    pii_masking = models.JSONField(
        default=dict,
        blank=True,
        help_text="What to mask in visitors' messages before they are stored or sent to a "
        'model. Empty masks everything; e.g. {"kinds": ["card", "iban", "national_id"]} or '
        '{"enabled": false}.',
    )
    pii_region = models.CharField(
        max_length=2,
        default="US",
        help_text="Country (ISO 3166) whose national phone-number format visitors use.",
    )
    identity_required = models.BooleanField(
        default=False,
        help_text="Only customers verified by a token from your site (customerToken or "
        "userHash) may chat; anonymous and merely identified visitors are refused.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["workspace", "name"], name="agent_ws_name")]

    def __str__(self) -> str:
        return f"{self.name} ({self.public_id})"


class KnowledgeArticle(models.Model):
    """A piece of the agent's knowledge base that the default responder answers from."""

    workspace_path = "agent__workspace"

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="articles")
    title = models.CharField(max_length=200)
    body = models.TextField()
    source_url = models.URLField(blank=True)
    is_published = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]
        indexes = [models.Index(fields=["agent", "is_published"], name="article_agent_published")]

    def __str__(self) -> str:
        return self.title
