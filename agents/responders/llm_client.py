"""Which model server an agent talks to, and the SDK client that talks to it."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from django.conf import settings
from openai import OpenAI

from agents.models import Agent
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


def llm_config(agent: Agent) -> LlmConfig:
    """The agent's model settings, each falling back to the LLM_* environment."""
    base_url = agent.llm_base_url or settings.LLM_BASE_URL
    model = agent.llm_model or settings.LLM_MODEL
    if not base_url or not model:
        raise LlmUnavailable("unconfigured", "no model server or model name")
    api_key = settings.LLM_API_KEY
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
    )


@functools.lru_cache(maxsize=32)
def llm_client(base_url: str, api_key: str, timeout_s: float) -> OpenAI:
    """One client (and its connection pool) per server, key and timeout, reused by all
    replies in the process."""
    return OpenAI(
        base_url=base_url,
        api_key=api_key or NO_API_KEY,
        timeout=timeout_s,
        max_retries=LLM_MAX_RETRIES,
    )


def agent_llm_key_assign(*, agent: Agent, api_key: str) -> None:
    """Give the agent its own model API key, sealed (empty: forget it and use LLM_API_KEY).
    The caller saves the agent."""
    agent.llm_api_key_sealed = seal(api_key) if api_key else ""
