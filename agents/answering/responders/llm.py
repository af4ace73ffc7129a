"""The LLM responder: any OpenAI-compatible server, streamed, with tools and a fallback.

One answer is a short loop of streamed chat completions: the model reads the prompt
(`agents.answering.responders.prompt`), may ask for tools (`agents.contracts`) for
up to TOOL_ROUNDS
rounds, and its text reaches `on_delta` token by token. The official `openai` SDK
retries a failed request (`llm_client.LLM_MAX_RETRIES`) before anything streamed; once
tokens flow, nothing is retried. Whatever goes wrong — no configuration, a budget spent,
an error, a timeout, an empty answer — the knowledge-base responder answers instead (and
its "I don't know" offers a person), and the reason is kept in the reply's metadata.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from openai import APITimeoutError, OpenAIError

from agents.answering.responders.knowledge import KnowledgeBaseResponder
from agents.answering.responders.llm_client import LlmConfig, LlmUnavailable, llm_client, llm_config
from agents.answering.responders.prompt import (
    Source,
    cited,
    prompt_messages,
    sources_footer,
    sources_from,
)
from agents.answering.toolbox import tools_for
from agents.answering.usage import TokenUsage, budget_exhausted, usage_record
from agents.contracts import (
    CustomerContext,
    HistoryItem,
    Reply,
    Responder,
    Tool,
    ToolContext,
    ToolResult,
)
from agents.knowledge.search import search_articles
from agents.models import Agent

logger = logging.getLogger(__name__)

TOOL_ROUNDS = 3
# However slowly a server drips tokens, one answer ends after this many times the
# agent's timeout (which bounds each wait for a byte).
DEADLINE_FACTOR = 4
MAX_CARDS = 10
MAX_QUICK_REPLIES = 5
ROUND_SEPARATOR = "\n\n"


@dataclass
class _PendingCall:
    id: str = ""
    name: str = ""
    arguments: str = ""


@dataclass
class _Completion:
    text: str = ""
    calls: dict[int, _PendingCall] = field(default_factory=dict)


@dataclass
class _Answer:
    """The state of one answer across its model calls."""

    agent: Agent
    config: LlmConfig
    owner_key: str
    on_delta: Callable[[str], None] | None
    tools: dict[str, Tool]
    tool_context: ToolContext
    started: float
    text: str = ""
    first_token_at: float | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    estimated: bool = False
    calls: int = 0
    cards: list[dict[str, Any]] = field(default_factory=list)
    quick_replies: list[str] = field(default_factory=list)
    tool_log: list[dict[str, Any]] = field(default_factory=list)

    @property
    def deadline(self) -> float:
        return self.started + DEADLINE_FACTOR * self.config.timeout_s

    def emit(self, piece: str) -> None:
        if not piece:
            return
        if self.first_token_at is None:
            self.first_token_at = time.monotonic()
        self.text += piece
        if self.on_delta is not None:
            self.on_delta(piece)

    def run(self, messages: list[dict[str, Any]]) -> str:
        """Call the model until it answers (running the tools it asks for in between)."""
        for round_number in range(TOOL_ROUNDS + 1):
            # The last round may not ask for more tools: the model must answer with what
            # it has.
            completion = self._call(messages, last=round_number == TOOL_ROUNDS)
            if not completion.calls:
                break
            messages = [*messages, *self._run_tools(completion)]
        if not self.text.strip():
            raise LlmUnavailable("empty", "the model returned no text")
        return self.text

    def _call(self, messages: list[dict[str, Any]], *, last: bool) -> _Completion:
        request: dict[str, Any] = {
            "model": self.config.model,
            "messages": messages,
            "max_tokens": self.config.max_output_tokens,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if self.tools:
            request["tools"] = [_tool_param(tool) for tool in self.tools.values()]
            if last:
                request["tool_choice"] = "none"
        config = self.config
        client = llm_client(config.base_url, config.api_key, config.timeout_s, config.own_server)
        # The SDK retries here (connection errors, 408/409/429/5xx, timeouts) ...
        stream = client.chat.completions.create(**request)
        completion = _Completion()
        reported: TokenUsage | None = None
        separator = ROUND_SEPARATOR if self.text else ""
        try:
            # ... and never once the answer streams: a failure now falls back instead.
            for chunk in stream:
                if time.monotonic() > self.deadline:
                    raise LlmUnavailable("timeout", "the answer took too long")
                if chunk.usage is not None:
                    reported = TokenUsage(
                        chunk.usage.prompt_tokens or 0, chunk.usage.completion_tokens or 0
                    )
                for choice in chunk.choices[:1]:
                    delta = choice.delta
                    if delta.content:
                        completion.text += delta.content
                        self.emit(separator + delta.content)
                        separator = ""
                    for piece in delta.tool_calls or []:
                        pending = completion.calls.setdefault(piece.index, _PendingCall())
                        pending.id = piece.id or pending.id
                        if piece.function is not None:
                            pending.name += piece.function.name or ""
                            pending.arguments += piece.function.arguments or ""
        finally:
            stream.close()
            self._count(messages, completion, reported)
        if last:
            completion.calls.clear()  # asked anyway: ignored, the text is the answer
        return completion

    def _count(
        self,
        messages: list[dict[str, Any]],
        completion: _Completion,
        reported: TokenUsage | None,
    ) -> None:
        """Record the call's tokens, estimated (about 4 characters a token) when the
        server reports none, so budgets hold against any server."""
        usage = reported or TokenUsage(
            prompt_tokens=len(json.dumps(messages)) // 4,
            completion_tokens=max(
                1,
                (len(completion.text) + sum(len(c.arguments) for c in completion.calls.values()))
                // 4,
            ),
            estimated=True,
        )
        self.calls += 1
        self.prompt_tokens += usage.prompt_tokens
        self.completion_tokens += usage.completion_tokens
        self.estimated = self.estimated or usage.estimated
        usage_record(agent=self.agent, owner_key=self.owner_key, usage=usage)

    def _run_tools(self, completion: _Completion) -> list[dict[str, Any]]:
        """The assistant's tool request and one tool message per call, for the next round."""
        ordered = [completion.calls[index] for index in sorted(completion.calls)]
        for number, call in enumerate(ordered):
            call.id = call.id or f"call_{self.calls}_{number}"
        request = {
            "role": "assistant",
            "content": completion.text or None,
            "tool_calls": [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": call.arguments or "{}"},
                }
                for call in ordered
            ],
        }
        results = []
        for call in ordered:
            result = self._run_tool(call)
            self.tool_log.append({"name": call.name, "ok": result.ok})
            self.cards.extend(result.cards[: MAX_CARDS - len(self.cards)])
            for reply in result.quick_replies:
                if reply not in self.quick_replies and len(self.quick_replies) < MAX_QUICK_REPLIES:
                    self.quick_replies.append(reply)
            results.append({"role": "tool", "tool_call_id": call.id, "content": result.text})
        return [request, *results]

    def _run_tool(self, call: _PendingCall) -> ToolResult:
        tool = self.tools.get(call.name)
        if tool is None:
            return ToolResult(ok=False, text=f"There is no tool named {call.name!r}.")
        try:
            arguments = json.loads(call.arguments or "{}")
        except ValueError:
            arguments = None
        if not isinstance(arguments, dict):
            return ToolResult(ok=False, text="The arguments were not a JSON object.")
        try:
            return tool.call(arguments, self.tool_context)
        except Exception:
            # A tool is someone else's server: its failure is an answer for the model, not
            # the end of the conversation.
            logger.exception("tool %s of agent %s failed", call.name, self.agent.public_id)
            return ToolResult(ok=False, text="The tool failed; tell the visitor it is unavailable.")

    def metadata(self, *, finished: float) -> dict[str, Any]:
        first = self.first_token_at
        return {
            "responder": "llm",
            "model": self.config.model,
            "usage": {
                "promptTokens": self.prompt_tokens,
                "completionTokens": self.completion_tokens,
                "calls": self.calls,
                **({"estimated": True} if self.estimated else {}),
            },
            "latencyMs": round((finished - self.started) * 1000),
            "firstTokenMs": round((first - self.started) * 1000) if first is not None else None,
            **({"toolCalls": self.tool_log} if self.tool_log else {}),
        }


def _tool_param(tool: Tool) -> dict[str, Any]:
    spec = tool.spec
    return {
        "type": "function",
        "function": {
            "name": spec.name,
            "description": spec.description,
            "parameters": spec.parameters,
        },
    }


class LlmResponder:
    """Answers with the agent's model; falls back to `fallback` (the knowledge base)."""

    shows_typing = True

    def __init__(
        self,
        fallback: Responder | None = None,
        tools: Callable[[Agent, CustomerContext | None], list[Tool]] = tools_for,
    ) -> None:
        self.fallback = fallback or KnowledgeBaseResponder()
        self.tools = tools

    def respond(
        self,
        *,
        agent: Agent,
        question: str,
        history: list[HistoryItem],
        customer: CustomerContext | None = None,
        conversation_id: str = "",
        owner_key: str = "",
        on_delta: Callable[[str], None] | None = None,
    ) -> Reply:
        started = time.monotonic()
        try:
            config = llm_config(agent)
            exhausted = budget_exhausted(agent=agent, owner_key=owner_key)
            if exhausted is not None:
                raise LlmUnavailable("budget", exhausted)
            sources = sources_from(question, search_articles(agent=agent, question=question))
            answer = _Answer(
                agent=agent,
                config=config,
                owner_key=owner_key,
                on_delta=on_delta,
                tools={tool.spec.name: tool for tool in self.tools(agent, customer)},
                tool_context=ToolContext(
                    agent=agent, conversation_public_id=conversation_id, customer=customer
                ),
                started=started,
            )
            messages = prompt_messages(
                agent=agent, question=question, history=history, customer=customer, sources=sources
            )
            return self._answered(answer, answer.run(messages), sources)
        except LlmUnavailable as exc:
            reason, detail = exc.reason, str(exc)
        except APITimeoutError as exc:
            reason, detail = "timeout", str(exc)
        except OpenAIError as exc:
            reason, detail = "error", f"{type(exc).__name__}: {exc}"
        logger.warning("agent %s answers from knowledge: %s", agent.public_id, detail)
        reply = self.fallback.respond(
            agent=agent,
            question=question,
            history=history,
            customer=customer,
            conversation_id=conversation_id,
            owner_key=owner_key,
        )
        return replace(
            reply,
            metadata={
                **reply.metadata,
                "responder": "knowledge",
                "llmFallback": reason,
                "latencyMs": round((time.monotonic() - started) * 1000),
            },
        )

    def _answered(self, answer: _Answer, text: str, sources: list[Source]) -> Reply:
        used = cited(text, sources)
        footer = sources_footer(used)
        answer.emit(footer)
        return Reply(
            text=answer.text,
            answered=True,
            sources=[source.as_reply_source() for source in used],
            cards=answer.cards,
            quick_replies=answer.quick_replies,
            metadata=answer.metadata(finished=time.monotonic()),
        )
