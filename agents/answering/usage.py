"""Model token usage per agent, owner and day, and the budgets that stop runaway cost.

Every model call adds its tokens to one `ModelUsage` row (agent, owner, UTC day) with
atomic increments, so concurrent replies never lose a count. Before calling a model the
LLM responder asks `budget_exhausted`: an agent over its monthly budget, or a visitor or
customer over their daily one, is answered from the knowledge base instead.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone

from agents.models import Agent, ModelUsage

AGENT_MONTH = "agent_month"
OWNER_DAY = "owner_day"


@dataclass(frozen=True)
class TokenUsage:
    prompt_tokens: int
    completion_tokens: int
    # True when the server reported no usage and the counts are estimated from text.
    estimated: bool = False

    @property
    def total(self) -> int:
        return self.prompt_tokens + self.completion_tokens


def _today() -> datetime.date:
    return timezone.now().date()  # UTC: budgets roll over at the same instant everywhere


def usage_record(
    *, agent: Agent, owner_key: str, usage: TokenUsage, day: datetime.date | None = None
) -> None:
    """Add one model call and its tokens to the owner's row for the day."""
    day = day or _today()
    increments = {
        "calls": F("calls") + 1,
        "prompt_tokens": F("prompt_tokens") + usage.prompt_tokens,
        "completion_tokens": F("completion_tokens") + usage.completion_tokens,
    }
    rows = ModelUsage.objects.filter(agent=agent, owner_key=owner_key, day=day)
    if rows.update(**increments):
        return
    try:
        with transaction.atomic():
            ModelUsage.objects.create(
                agent=agent,
                owner_key=owner_key,
                day=day,
                calls=1,
                prompt_tokens=usage.prompt_tokens,
                completion_tokens=usage.completion_tokens,
            )
    except IntegrityError:
        rows.update(**increments)  # another reply created the row first


def _tokens_used(**lookup: object) -> int:
    total = ModelUsage.objects.filter(**lookup).aggregate(
        total=Sum(F("prompt_tokens") + F("completion_tokens"))
    )["total"]
    return int(total or 0)


def budget_exhausted(
    *, agent: Agent, owner_key: str, day: datetime.date | None = None
) -> str | None:
    """Which budget stops a model call now (`agent_month` or `owner_day`), or None."""
    day = day or _today()
    if agent.monthly_token_budget is not None:
        used = _tokens_used(agent=agent, day__gte=day.replace(day=1), day__lte=day)
        if used >= agent.monthly_token_budget:
            return AGENT_MONTH
    if agent.customer_daily_token_budget is not None and owner_key:
        used = _tokens_used(agent=agent, owner_key=owner_key, day=day)
        if used >= agent.customer_daily_token_budget:
            return OWNER_DAY
    return None
