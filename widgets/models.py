from __future__ import annotations

from django.db import models


def default_theme() -> dict[str, str]:
    return {"primaryColor": "#4f46e5", "mode": "light"}


def default_features() -> list[str]:
    return ["chat"]


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
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Widget of {self.agent.name}"
