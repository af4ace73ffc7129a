"""Which model server an agent talks to, with which key, and the SDK client that talks to it.

Two kinds of server: the platform's (LLM_BASE_URL, the operator's, trusted) and an agent's
own (`llm_base_url`, typed by a workspace). The platform's key (LLM_API_KEY) goes only to
the platform's server; an agent's own server gets the agent's own sealed key or none, and
is called through the outbound policy (security.outbound): checked before every answer,
and connected to only at the address that check approved.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from django.conf import settings
from openai import OpenAI

from agents.models import Agent
from security.outbound import (
    OutboundFailed,
    OutboundRefused,
    Purpose,
    outbound_target,
    pinned_client,
)
from security.sealing import SealBroken, seal, unseal

# The SDK retries connection errors, timeouts, 408/409/429 and 5xx this many times (with
# its own back-off, honouring Retry-After) before the first token; never mid-stream.
LLM_MAX_RETRIES = 1
# Local servers need no key, but the SDK insists on one.
NO_API_KEY = "not-needed"


class LlmUnavailable(Exception):
    """The model cannot be asked, or gave nothing usable; `reason` names why."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


@dataclass(frozen=True)
class LlmConfig:
    base_url: str
    model: str
    api_key: str
    timeout_s: float
    max_output_tokens: int
    # The agent's own server (a workspace's URL): called through the outbound policy.
    own_server: bool = False


def llm_config(agent: Agent) -> LlmConfig:
    """The agent's model settings, each falling back to the LLM_* environment — except
    the key: LLM_API_KEY is sent only to LLM_BASE_URL, never to the agent's own server.
    LlmUnavailable("refused") when the agent's server may not be called (SSRF)."""
    own_server = bool(agent.llm_base_url)
    base_url = agent.llm_base_url or settings.LLM_BASE_URL
    model = agent.llm_model or settings.LLM_MODEL
    if not base_url or not model:
        raise LlmUnavailable("unconfigured", "no model server or model name")
    if own_server:
        try:
            # Before anything is sent: a URL saved before the rule, or whose name has
            # moved onto our network since, is never called.
            outbound_target(base_url, purpose=Purpose.LLM)
        except OutboundRefused as exc:
            raise LlmUnavailable("refused", str(exc)) from None
        except OutboundFailed:
            pass  # does not resolve now: the SDK tries (and retries) like any outage
    api_key = "" if own_server else settings.LLM_API_KEY
    if agent.llm_api_key_sealed:
        try:
            api_key = unseal(agent.llm_api_key_sealed)
        except SealBroken:
            raise LlmUnavailable("key_unreadable", "the API key was sealed elsewhere") from None
    return LlmConfig(
        base_url=base_url,
        model=model,
        api_key=api_key,
        timeout_s=float(agent.llm_timeout_seconds or 20),
        max_output_tokens=agent.llm_max_output_tokens or 600,
        own_server=own_server,
    )


@functools.lru_cache(maxsize=32)
def llm_client(base_url: str, api_key: str, timeout_s: float, own_server: bool = False) -> OpenAI:
    """One client (and its connection pool) per server, key and timeout, reused by all
    replies in the process. An agent's own server is reached through a pinned transport
    that checks every request (security.outbound) and follows no redirect."""
    return OpenAI(
        base_url=base_url,
        api_key=api_key or NO_API_KEY,
        timeout=timeout_s,
        max_retries=LLM_MAX_RETRIES,
        http_client=pinned_client(purpose=Purpose.LLM, timeout=timeout_s) if own_server else None,
    )


def agent_llm_key_assign(*, agent: Agent, api_key: str) -> None:
    """Give the agent its own model API key, sealed (empty: forget it; the agent then uses
    LLM_API_KEY with the platform's server and no key with a server of its own). The
    caller saves the agent."""
    agent.llm_api_key_sealed = seal(api_key) if api_key else ""
