"""Custom domains for the widget (docs/custom-domain.md): who may use a host name, the
proof that they control it, and the `ask` endpoint a TLS proxy with on-demand certificates
(Caddy's `on_demand_tls { ask … }`) calls before it requests a certificate for a host.

A host name belongs to one widget at most (a database constraint, case-insensitive). It
is *pending* until its DNS publishes the widget's value in a TXT record at
`_customeragent.<host>`; only a *verified* host is in snippets and gets a certificate. A
host held by another widget moves only to someone whose value is in that record while the
holder's is not: DNS decides, never who typed the name first.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, TypedDict

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_safe

from agents.models import Agent
from core.errors import InvalidRequest, RateLimited
from security.audit import audit_record
from security.client_ip import request_client_ip
from security.ratelimit import Limit, rate_limit_hit
from widgets.config.validation import WidgetConfigInvalid
from widgets.delivery.domain_dns import DnsUnavailable, txt_values
from widgets.models import WidgetConfig

logger = logging.getLogger("customeragent.security")

RECORD_LABEL = "_customeragent"
RECORD_VALUE_PREFIX = "customeragent-domain-verification="
STATE_FIELDS = (
    "custom_domain",
    "custom_domain_verified_at",
    "custom_domain_checked_at",
    "custom_domain_problem",
)
KNOWN_CACHE_SECONDS = 60
# A proxy asks once per new host; more than this from one address is someone probing.
ASK_LIMIT = Limit(name="tls_ask", rate=60, window=60)
# Each check is a DNS query on someone's behalf.
CHECK_LIMIT = Limit(name="custom_domain_check", rate=20, window=60)


class DomainState(TypedDict):
    recordType: str
    recordName: str
    recordValue: str
    checkedAt: datetime | None
    verifiedAt: datetime | None
    problem: str  # what the last check found, when it did not verify


def record_name(domain: str) -> str:
    return f"{RECORD_LABEL}.{domain}"


def record_value(config: WidgetConfig) -> str:
    return RECORD_VALUE_PREFIX + config.custom_domain_token


def custom_domain_status(config: WidgetConfig | None) -> str:
    """ "none", "pending" or "verified"."""
    if config is None or not config.custom_domain:
        return "none"
    return "verified" if config.custom_domain_verified_at else "pending"


def custom_domain_state(config: WidgetConfig | None) -> DomainState | None:
    """The record that proves the custom domain, and what the last check found."""
    if config is None or not config.custom_domain:
        return None
    return {
        "recordType": "TXT",
        "recordName": record_name(config.custom_domain),
        "recordValue": record_value(config),
        "checkedAt": config.custom_domain_checked_at,
        "verifiedAt": config.custom_domain_verified_at,
        "problem": config.custom_domain_problem,
    }


def verified_custom_domain(agent: Agent) -> str:
    """The agent's custom domain if it is verified, else empty."""
    domains = WidgetConfig.objects.filter(agent=agent, custom_domain_verified_at__isnull=False)
    return str(
        domains.exclude(custom_domain="").values_list("custom_domain", flat=True).first() or ""
    )


def _known_key(host: str) -> str:
    return f"widget:custom-domain:{host}"


def custom_domains_forget(*hosts: str) -> None:
    """Drop cached `ask` answers for these hosts, once the change is committed."""
    keys = [_known_key(host) for host in hosts if host]
    if keys:
        transaction.on_commit(lambda: cache.delete_many(keys))


def custom_domain_known(host: str) -> bool:
    """Whether an active agent's widget is served from `host`, verified (cached a minute)."""
    host = host.strip().lower().rstrip(".")
    if not host or len(host) > 253:
        return False
    key = _known_key(host)
    known = cache.get(key)
    if known is None:
        known = WidgetConfig.objects.filter(
            custom_domain=host, custom_domain_verified_at__isnull=False, agent__is_active=True
        ).exists()
        cache.set(key, known, KNOWN_CACHE_SECONDS)
    return bool(known)


def _proves_over(config: WidgetConfig, holder: WidgetConfig, domain: str) -> bool:
    """Whether DNS now says `config`'s owner, not `holder`'s, controls `domain`."""
    try:
        found = txt_values(record_name(domain))
    except DnsUnavailable:
        return False
    return record_value(config) in found and record_value(holder) not in found


def _taken(domain: str, *, agent: Agent, config: WidgetConfig, holder: Any) -> str:
    if holder is not None and holder.agent.workspace_id == agent.workspace_id:
        return f"{domain} is already used by this workspace's agent “{holder.agent.name}”."
    return (
        f"{domain} is already used by another workspace. If the name is yours, publish the "
        f"TXT record {record_name(domain)} with the value {record_value(config)} and save "
        "again: a name proven in DNS moves to you."
    )


def _release(holder: WidgetConfig, domain: str) -> None:
    """Take `domain` from `holder`, whose DNS record no longer proves it (audited in the
    holder's workspace as done by the platform: who took it is another tenant's business)."""
    holder.custom_domain = ""
    holder.custom_domain_verified_at = holder.custom_domain_checked_at = None
    holder.custom_domain_problem = ""
    holder.save(update_fields=[*STATE_FIELDS, "updated_at"])
    audit_record(
        action="widget.custom_domain_released",
        target=holder.agent.public_id,
        workspace_id=holder.agent.workspace_id,
        changes={
            "customDomain": {"from": domain, "to": ""},
            "reason": "another workspace proved the name in DNS",
        },
    )
    logger.warning("custom domain %s moved away from agent %s", domain, holder.agent.public_id)


def custom_domain_claim(*, agent: Agent, config: WidgetConfig, domain: str) -> None:
    """Point the (locked) config at `domain`, a clean host name or "" for none.

    A new name starts pending. A name another widget holds is refused with
    WidgetConfigInvalid, unless its TXT record holds this widget's value and not the
    holder's: then it moves here, verified.
    """
    old = config.custom_domain
    if domain == old:
        return
    verified_at = None
    if domain:
        holder = (
            WidgetConfig.objects.select_for_update(of=("self",))
            .select_related("agent")
            .filter(custom_domain__iexact=domain)
            .exclude(pk=config.pk)
            .first()
        )
        if holder is not None:
            if not _proves_over(config, holder, domain):
                raise WidgetConfigInvalid(
                    {"customDomain": _taken(domain, agent=agent, config=config, holder=holder)}
                )
            _release(holder, domain)
            verified_at = timezone.now()
    config.custom_domain = domain
    config.custom_domain_verified_at = config.custom_domain_checked_at = verified_at
    config.custom_domain_problem = ""
    try:
        with transaction.atomic():
            config.save(update_fields=[*STATE_FIELDS, "updated_at"])
    except IntegrityError:  # claimed by someone else a moment ago
        taken = _taken(domain, agent=agent, config=config, holder=None)
        raise WidgetConfigInvalid({"customDomain": taken}) from None
    custom_domains_forget(old, domain)


def custom_domain_check(*, agent: Agent, by: Any = None) -> WidgetConfig:
    """Look for the widget's TXT record now: found, the domain is verified; answered
    without it, the domain is pending (again); no answer, nothing changes. What was found
    is kept in `custom_domain_problem`."""
    config = WidgetConfig.objects.filter(agent=agent).first()
    if config is None or not config.custom_domain:
        raise InvalidRequest("There is no custom domain to check: set one first.")
    if not rate_limit_hit(CHECK_LIMIT, agent.public_id).allowed:
        raise RateLimited("Too many checks; wait a minute.", headers={"Retry-After": "60"})
    domain, expected, name = (
        config.custom_domain,
        record_value(config),
        record_name(config.custom_domain),
    )
    proven: bool | None
    try:  # before any lock: a lookup may take seconds
        found = txt_values(name)
    except DnsUnavailable as exc:
        proven, problem = None, f"No answer: {exc}. Try again later."
    else:
        proven = expected in found
        if proven:
            problem = ""
        elif found:
            problem = f"The TXT record at {name} does not hold this widget's value."
        else:
            problem = f"There is no TXT record at {name} yet (DNS changes can take a while)."
    with transaction.atomic():
        config = WidgetConfig.objects.select_for_update().get(pk=config.pk)
        if config.custom_domain != domain:  # changed meanwhile: this answer is moot
            return config
        was_verified = config.custom_domain_verified_at is not None
        now = timezone.now()
        if proven is True:
            config.custom_domain_verified_at = config.custom_domain_verified_at or now
        elif proven is False:
            config.custom_domain_verified_at = None
        config.custom_domain_checked_at, config.custom_domain_problem = now, problem
        config.save(update_fields=[*STATE_FIELDS, "updated_at"])
        verified = config.custom_domain_verified_at is not None
        if verified != was_verified:
            audit_record(
                action="widget.custom_domain_verified"
                if verified
                else "widget.custom_domain_unverified",
                target=agent.public_id,
                actor=by,
                workspace_id=agent.workspace_id,
                changes={"customDomain": domain, "problem": problem},
            )
            custom_domains_forget(domain)
    return config


@require_safe
def tls_ask(request: HttpRequest) -> HttpResponse:
    """GET /api/v2/tls/ask?domain=<host>: 200 when a certificate may be issued, else 404."""
    decision = rate_limit_hit(ASK_LIMIT, request_client_ip(request))
    if not decision.allowed:
        response = HttpResponse("rate limited\n", status=429, content_type="text/plain")
        response["Retry-After"] = str(decision.retry_after)
        return response
    if custom_domain_known(request.GET.get("domain", "")):
        return HttpResponse("ok\n", content_type="text/plain")
    return HttpResponse("unknown domain\n", status=404, content_type="text/plain")
