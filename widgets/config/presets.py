"""Named starting points for a widget. Applying one (widgets.publishing.bulk.widget_preset_apply)
overwrites the draft's appearance and behaviour; allowed domains and limits stay. Every
preset passes widgets.config.validation (a test checks), in the widget document's field names.
"""

from __future__ import annotations

from typing import Any, TypedDict


class Preset(TypedDict):
    key: str
    name: str
    description: str
    widget: dict[str, Any]


PRESETS: tuple[Preset, ...] = (
    {
        "key": "minimal",
        "name": "Minimal",
        "description": "Neutral colours, no proactive messages: a quiet launcher.",
        "widget": {
            "theme": {"primaryColor": "#111827", "mode": "light", "radius": 12},
            "position": "bottom-right",
            "features": ["chat"],
            "starterPrompts": [],
            "triggers": {},
            "customCss": "",
        },
    },
    {
        "key": "shop",
        "name": "Shop",
        "description": "For stores: order and returns questions up front, a teaser on product "
        "and pricing pages, never during checkout.",
        "widget": {
            "theme": {"primaryColor": "#0f766e", "mode": "light", "radius": 16},
            "position": "bottom-right",
            "features": ["chat"],
            "greeting": "Hi! Questions about an order, shipping or returns? Ask me.",
            "starterPrompts": ["Where is my order?", "How do returns work?", "Shipping times"],
            "triggers": {
                "delayMs": 8000,
                "urlInclude": ["/products/*", "/pricing*"],
                "urlExclude": ["/checkout*", "/cart*"],
                "action": "teaser",
            },
            "customCss": "",
        },
    },
    {
        "key": "saas",
        "name": "SaaS support",
        "description": "For software products: account and billing prompts, reaches out on "
        "the pricing page after some scrolling.",
        "widget": {
            "theme": {"primaryColor": "#4f46e5", "mode": "auto", "radius": 10},
            "position": "bottom-right",
            "features": ["chat"],
            "greeting": "Hi! How can we help with your account today?",
            "starterPrompts": ["Reset my password", "Change my plan", "Talk to a person"],
            "triggers": {"scrollPercent": 50, "urlInclude": ["/pricing*"], "action": "teaser"},
            "customCss": "",
        },
    },
    {
        "key": "dark",
        "name": "Dark",
        "description": "A dark panel with a bright accent, on the left.",
        "widget": {
            "theme": {
                "primaryColor": "#f59e0b",
                "backgroundColor": "#111827",
                "textColor": "#f9fafb",
                "mode": "dark",
                "radius": 14,
            },
            "position": "bottom-left",
            "features": ["chat"],
            "starterPrompts": [],
            "triggers": {},
            "customCss": "",
        },
    },
)


def preset_get(key: str) -> Preset | None:
    return next((preset for preset in PRESETS if preset["key"] == key), None)
