"""Demo data: one workspace, two staff users, one agent with a small knowledge base and the
identity key the demo site signs its customers' tokens with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F

from agents.models import Agent, KnowledgeArticle
from customers.keys import identity_secret_rotate, live_keys
from customers.models import IdentityKey
from demo.experiments import demo_alert_seed, demo_experiment_seed
from widgets.models import WidgetConfig
from widgets.publishing.releases import widget_publish
from workspaces.models import Membership, Workspace

DEMO_WORKSPACE = "acme-outdoor"
DEMO_AGENT_NAME = "Acme Support"

ARTICLES = [
    (
        "Shipping times and costs",
        "We ship every order within one business day from our warehouse in Portland.\n\n"
        "Standard shipping in the United States takes 3-5 business days and is free on orders "
        "over $50. Express shipping takes 1-2 business days and costs $15.\n\n"
        "We also ship to Canada and Mexico: international delivery takes 7-10 business days.",
        "https://acme.example/help/shipping",
    ),
    (
        "Returns and refunds",
        "You can return any unused item within 30 days of delivery for a full refund.\n\n"
        "Start a return from your account page and print the prepaid return label. Refunds "
        "reach your original payment method within 5 business days after we receive the item.",
        "https://acme.example/help/returns",
    ),
    (
        "Tracking your order",
        "As soon as your order ships we email you a tracking number.\n\n"
        "You can also track your order status from the Orders page of your account.",
        "https://acme.example/help/tracking",
    ),
    (
        "Warranty on tents and backpacks",
        "All Acme tents and backpacks carry a lifetime warranty against manufacturing defects.\n\n"
        "Send us a photo of the defect and your order number and we will repair or replace it.",
        "https://acme.example/help/warranty",
    ),
    (
        "Payment methods",
        "We accept Visa, Mastercard, American Express, PayPal and Apple Pay. Gift cards can "
        "be combined with any other payment method.",
        "https://acme.example/help/payment",
    ),
]


@dataclass(frozen=True)
class DemoSeed:
    agent: Agent
    admin_username: str
    admin_password: str
    identity_key: IdentityKey


def demo_identity_key(agent: Agent) -> IdentityKey | None:
    """The agent's current shared-secret key: one that never retires first, then the newest."""
    return (
        live_keys(agent.pk)
        .filter(algorithm=IdentityKey.Algorithm.HS256)
        .order_by(F("retires_at").desc(nulls_first=True), "-created_at")
        .first()
    )


def _demo_staff_user(username: str, password: str, **defaults: Any) -> Any:
    """The staff user `username`; its password is set only when it is first made."""
    user, created = get_user_model().objects.get_or_create(username=username, defaults=defaults)
    if created:
        user.set_password(password)
        user.save()
    return user


def _demo_widget_config(agent: Agent, hosts: list[str]) -> WidgetConfig:
    """The demo agent's widget, allowed on `hosts` (added to any it already has)."""
    config, created = WidgetConfig.objects.get_or_create(
        agent=agent,
        defaults={
            "allowed_domains": hosts,
            "triggers": {"delayMs": 4000, "action": "teaser"},
            "starter_prompts": ["How long does shipping take?", "Can I return an item?"],
            # All the demo's visitors, real and simulated (demo_traffic), are 127.0.0.1.
            "rate_limits": {"session_per_ip": 600},
        },
    )
    if not created and not set(hosts) <= set(config.allowed_domains):
        config.allowed_domains = sorted(set(config.allowed_domains) | set(hosts))
        config.save()
    return config


@transaction.atomic
def demo_seed(*, admin_password: str = "admin", demo_hosts: list[str] | None = None) -> DemoSeed:
    """Create (or bring back to shape) the demo. Running it twice changes nothing."""
    admin_user = _demo_staff_user(
        "admin", admin_password, email="admin@example.com", is_staff=True, is_superuser=True
    )
    workspace, _ = Workspace.objects.get_or_create(
        slug=DEMO_WORKSPACE, defaults={"name": "Acme Outdoor Gear"}
    )
    lead = _demo_staff_user("acme-lead", admin_password, email="lead@acme.example", is_staff=True)
    Membership.objects.get_or_create(
        workspace=workspace, user=lead, defaults={"role": Membership.Role.OWNER}
    )
    agent, _ = Agent.objects.get_or_create(
        workspace=workspace,
        name=DEMO_AGENT_NAME,
        defaults={
            "greeting": "Hi! I'm Acme's assistant. Ask me about shipping, returns or your order."
        },
    )
    config = _demo_widget_config(agent, demo_hosts or ["localhost", "127.0.0.1"])
    for title, body, url in ARTICLES:
        KnowledgeArticle.objects.update_or_create(
            agent=agent, title=title, defaults={"body": body, "source_url": url}
        )
    # The demo shows draft and publish: v1 is live; edits in the admin wait for "Publish".
    config.refresh_from_db()
    if config.published_release_id is None:
        widget_publish(agent=agent, by=admin_user, note="Initial release (demo seed)")
    # The demo site signs its customers' tokens with this key (serve_demo). Made only when
    # the agent has no live one, so reseeding never rotates the secret under a running demo.
    identity_key = demo_identity_key(agent)
    if identity_key is None:
        identity_key, _ = identity_secret_rotate(agent_pk=agent.pk, workspace_id=workspace.pk)
    demo_experiment_seed(agent)  # docs/experiments.md
    demo_alert_seed(agent)  # docs/monitoring.md
    return DemoSeed(
        agent=agent,
        admin_username="admin",
        admin_password=admin_password,
        identity_key=identity_key,
    )
