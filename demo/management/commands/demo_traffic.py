"""`manage.py demo_traffic`: simulated visitors and an error spike for the running demo."""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from agents.models import Agent
from demo.seed import DEMO_AGENT_NAME, DEMO_WORKSPACE
from demo.traffic import TrafficPlan, TrafficRefused, traffic_run


def _rates(pairs: list[str]) -> dict[str, float]:
    rates: dict[str, float] = {}
    for pair in pairs:
        variant, _, value = pair.partition("=")
        try:
            rates[variant.strip()] = float(value)
        except ValueError:
            raise CommandError(f"--open-rate takes variant=probability, not {pair!r}.") from None
    return rates


class Command(BaseCommand):
    help = (
        "Send simulated visitors (sessions, loads, exposures, opens, messages) and optionally "
        "an error spike to the demo running on this machine (`make run`)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--visitors", type=int, default=120)
        parser.add_argument(
            "--open-rate",
            action="append",
            default=[],
            metavar="VARIANT=P",
            help="P(open) for visitors shown this variant, e.g. friendly=0.4 (repeatable).",
        )
        parser.add_argument("--default-open-rate", type=float, default=0.2)
        parser.add_argument("--errors", type=int, default=0, help="Widget errors to inject.")
        parser.add_argument("--agent", default="", help="Agent public id (default: the demo's).")
        parser.add_argument("--base-url", default="", help="Default: PUBLIC_BASE_URL.")
        parser.add_argument("--origin", default="", help="Default: the demo site's origin.")
        parser.add_argument("--seed", type=int, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        agent_id = options["agent"] or (
            Agent.objects.filter(workspace__slug=DEMO_WORKSPACE, name=DEMO_AGENT_NAME)
            .values_list("public_id", flat=True)
            .first()
        )
        if not agent_id:
            raise CommandError("No demo agent: run `make run` (or `manage.py seed_demo`) first.")
        plan = TrafficPlan(
            base_url=options["base_url"] or settings.PUBLIC_BASE_URL,
            origin=options["origin"] or f"http://127.0.0.1:{os.environ.get('DEMO_PORT', '8001')}",
            agent_id=agent_id,
            visitors=options["visitors"],
            open_rates=_rates(options["open_rate"]),
            default_open_rate=options["default_open_rate"],
            errors=options["errors"],
            seed=options["seed"],
        )
        try:
            report = traffic_run(plan)
        except TrafficRefused as exc:
            raise CommandError(str(exc)) from None
        for variant, count in sorted(report.by_variant.items()):
            opens = report.opens[variant]
            self.stdout.write(f"{variant:30} {count:5} visitors {opens:5} opens")
        self.stdout.write(f"{report.visitors} visitors, {report.errors} errors sent.")
