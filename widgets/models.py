from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone


def default_theme() -> dict[str, str]:
    return {"primaryColor": "#4f46e5", "mode": "light"}


def default_features() -> list[str]:
    return ["chat"]


def custom_domain_token_new() -> str:
    """The widget's own proof value for a custom domain's DNS TXT record."""
    return secrets.token_urlsafe(24)


# Written only by their services, with update_fields (WidgetConfig.save).
SERVICE_WRITTEN_FIELDS = (
    "published_release",
    "custom_domain",
    "custom_domain_token",
    "custom_domain_verified_at",
    "custom_domain_checked_at",
    "custom_domain_problem",
)


class WidgetConfig(models.Model):
    """How an agent's widget looks and where it may run (1:1 with the agent)."""

    class Position(models.TextChoices):
        BOTTOM_RIGHT = "bottom-right", "Bottom right"
        BOTTOM_LEFT = "bottom-left", "Bottom left"

    workspace_path = "agent__workspace"

    agent = models.OneToOneField(
        "agents.Agent", on_delete=models.CASCADE, related_name="widget_config"
    )
    allowed_domains = models.JSONField(
        default=list,
        blank=True,
        help_text="Hosts that may embed this widget: 'shop.example.com', '*.example.com', "
        "optionally with scheme or port. Empty means nowhere.",
    )
    theme = models.JSONField(default=default_theme, blank=True)
    position = models.CharField(
        max_length=16, choices=Position.choices, default=Position.BOTTOM_RIGHT
    )
    custom_css = models.TextField(blank=True)
    features = models.JSONField(default=default_features, blank=True)
    starter_prompts = models.JSONField(
        default=list,
        blank=True,
        help_text="Up to 4 questions offered as buttons before the first message, e.g. "
        '["Where is my order?", "Returns"].',
    )
    triggers = models.JSONField(
        default=dict,
        blank=True,
        help_text='When the widget reaches out first, e.g. {"delayMs": 8000, '
        '"urlInclude": ["/pricing*"], "action": "teaser"}. Empty: never.',
    )
    rate_limits = models.JSONField(
        default=dict,
        blank=True,
        help_text='Overrides of the default limits, e.g. {"session_per_ip": 100}.',
    )
    # --- Releases (widgets.publishing.releases): the fields above are the draft -------
    published_release = models.ForeignKey(
        "WidgetRelease",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="What live widgets show. Empty: the draft itself (never published).",
    )
    core_version = models.CharField(
        max_length=40,
        blank=True,
        help_text="Pin the widget code to one build (e.g. 2.0.0-GCG5SKNW); empty follows "
        "the stable channel.",
    )
    custom_domain = models.CharField(
        max_length=253,
        blank=True,
        help_text="A host of your own that serves the widget (e.g. chat.example.com, a CNAME "
        "to the platform); the snippet then loads from it once verified. See "
        "docs/custom-domain.md.",
    )
    # Ownership of the custom domain (widgets.delivery.custom_domains): a TXT record with this token
    # proves it; until then the domain is pending, neither in snippets nor given a certificate.
    custom_domain_token = models.CharField(
        max_length=64, default=custom_domain_token_new, editable=False
    )
    custom_domain_verified_at = models.DateTimeField(null=True, blank=True, editable=False)
    custom_domain_checked_at = models.DateTimeField(null=True, blank=True, editable=False)
    custom_domain_problem = models.CharField(max_length=300, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            # One widget per host name, whatever the case (widgets.delivery.custom_domains).
            models.UniqueConstraint(
                Lower("custom_domain"),
                condition=~models.Q(custom_domain=""),
                name="uniq_widget_custom_domain",
            )
        ]

    def __str__(self) -> str:
        return f"Widget of {self.agent.name}"

    # A guard, not business logic: only widgets.publishing.releases moves the live pointer and only
    # widgets.delivery.custom_domains the custom domain and its proof (always with update_fields).
    # A full save of an instance read before — an admin form open while someone publishes
    # or a domain is verified — must not put the older state back.
    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding and not args and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [
                f.name
                for f in self._meta.concrete_fields
                if not f.primary_key and f.name not in SERVICE_WRITTEN_FIELDS
            ]
        super().save(*args, **kwargs)


class ReleaseImmutable(Exception):
    """A published release was about to change or vanish on its own."""


class WidgetRelease(models.Model):
    """A published, immutable snapshot of an agent's public widget config (one version).

    Written only by `widgets.publishing.releases`; a rollback publishes an older snapshot again as a
    new version (`rollback_of`), so history is never rewritten.
    """

    workspace_path = "agent__workspace"

    agent = models.ForeignKey(
        "agents.Agent", on_delete=models.CASCADE, related_name="widget_releases"
    )
    version = models.PositiveIntegerField()
    # The shape of widgets.selectors.PublicConfig, as the draft built it at publish time.
    snapshot = models.JSONField()
    note = models.CharField(max_length=500, blank=True)
    rollback_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["agent", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["agent", "version"], name="uniq_widget_release")
        ]

    def __str__(self) -> str:
        return f"v{self.version} of agent {self.agent_id}"

    # A guard, not business logic: what visitors were shown must stay provable. Deleting
    # the agent still removes its releases (the cascade does not call delete()).
    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ReleaseImmutable("A release never changes: publish a new version instead.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ReleaseImmutable("A release is kept for the record: roll back instead.")


class CoreBuild(models.Model):
    """One build of the widget core: immutable, content-hashed, registered from the build's
    `dist/releases.json` by `manage.py widget_core_register`. Not tenant-owned."""

    version = models.CharField(max_length=40, unique=True)
    # Static names (under STATIC_URL), e.g. "widget/core.GCG5SKNW.js".
    path = models.CharField(max_length=200, unique=True)
    integrity = models.CharField(max_length=120, help_text="sha384-… of the core file")
    loader_path = models.CharField(
        max_length=200, blank=True, help_text="The loader built with this core (for SRI)."
    )
    loader_integrity = models.CharField(max_length=120, blank=True)
    size_raw = models.PositiveIntegerField(default=0)
    size_gzip = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, help_text="When it was built.")
    registered_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.version


class CoreChannel(models.Model):
    """A named pointer to a build: "stable" is what every unpinned agent loads."""

    class Name(models.TextChoices):
        STABLE = "stable", "Stable"

    name = models.CharField(max_length=20, choices=Name.choices, unique=True)
    build = models.ForeignKey(CoreBuild, on_delete=models.PROTECT, related_name="channels")
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.name} → {self.build.version}"


class InstallationRefusal(models.Model):
    """A site where the widget was refused, and why: the Deploy panel's installation check.
    One row per agent, origin and reason, counted; widgets.installation.refusals writes it."""

    class Reason(models.TextChoices):
        ORIGIN_NOT_ALLOWED = "origin_not_allowed", "Origin not allowed"
        AGENT_INACTIVE = "agent_inactive", "Agent switched off"
        IDENTITY_REQUIRED = "identity_required", "Verified customers only"

    workspace_path = "agent__workspace"

    agent = models.ForeignKey("agents.Agent", on_delete=models.CASCADE, related_name="+")
    origin = models.CharField(max_length=300)  # scheme://host[:port], as the browser sent it
    host = models.CharField(max_length=255)
    reason = models.CharField(max_length=40, choices=Reason.choices)
    detail = models.CharField(max_length=200, blank=True)
    count = models.PositiveIntegerField(default=1)
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-last_seen_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["agent", "origin", "reason"], name="uniq_refusal_agent_origin_reason"
            )
        ]

    def __str__(self) -> str:
        return f"{self.host}: {self.reason}"


class WidgetAsset(models.Model):
    """An uploaded image (the widget's logo), stored in the database, content-addressed and
    served immutable at /widget/assets/<pk>-<hash>.<ext> (widgets.delivery.assets)."""

    workspace_path = "workspace"

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="+"
    )
    sha256 = models.CharField(max_length=64)
    content_type = models.CharField(max_length=40)
    data = models.BinaryField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "sha256"], name="uniq_asset_per_workspace")
        ]

    def __str__(self) -> str:
        return f"{self.content_type} {self.sha256[:12]}"
