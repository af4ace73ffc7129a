"""MCP tools as the agent's model sees them, with the verified-customer rule enforced.

A **private** tool reads one customer's data (orders, account). It is offered only in a
conversation with a verified customer; its customer-id argument is hidden from the model
and filled at call time with that customer's id from the session — a value the model
passes (taken, perhaps, from the conversation text) is discarded and the attempt logged.
A tool is private when its server lists it in `private_tools`, and also whenever its input
has the customer-id argument: no tool ever gets a customer id from the model.
"""

from __future__ import annotations

import copy
import logging
import re
import time
from typing import Any

from agents.contracts import CustomerContext, ToolContext, ToolResult, ToolSpec
from agents.integrations.mcp import CallOutcome, RemoteTool, tool_call, tools_list
from agents.integrations.presets import presentation_for
from agents.models import Agent, McpServer, ToolCall

logger = logging.getLogger(__name__)

MAX_RESULT_CHARS = 8000
MAX_LOGGED_VALUE = 200
# What OpenAI-compatible servers accept as a function name; another name would fail the
# whole request, so such a tool is not offered.
TOOL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
SECRET_ARGUMENT = re.compile(r"token|secret|password|passwd|authorization|api[_-]?key", re.I)
NOT_VERIFIED = (
    "Refused: this tool reads a customer's private data and runs only for a signed-in "
    "(verified) customer. Ask the visitor to sign in to the site first."
)


class McpTool:
    """One allowed tool of one MCP server (satisfies agents.contracts.Tool)."""

    def __init__(self, *, server: McpServer, remote: RemoteTool, private: bool) -> None:
        self.server = server
        self.remote = remote
        self.private = private
        self.spec = ToolSpec(
            name=remote.name,
            description=_description(remote, private),
            parameters=_model_schema(remote.input_schema, server.customer_id_argument)
            if private
            else _object_schema(remote.input_schema),
        )

    def call(self, arguments: dict[str, Any], context: ToolContext) -> ToolResult:
        return self.run(arguments, context)[0]

    def run(
        self, arguments: dict[str, Any], context: ToolContext
    ) -> tuple[ToolResult, CallOutcome | None]:
        """The call, with the server's raw outcome (None when refused before calling)."""
        started = time.monotonic()
        args = dict(arguments) if isinstance(arguments, dict) else {}
        if context.agent.pk != self.server.agent_id:
            return self._refuse(args, context, started, "Refused: not this agent's tool."), None
        customer_note = "[redacted]"
        if self.private:
            customer = context.customer
            if customer is None or not customer.verified or not customer.external_id:
                logger.warning(
                    "private tool %s refused in %s: no verified customer",
                    self.remote.name,
                    context.conversation_public_id or "-",
                )
                return self._refuse(args, context, started, NOT_VERIFIED), None
            argument = self.server.customer_id_argument
            supplied = args.pop(argument, None)
            customer_note = "[verified customer]"
            if supplied not in (None, "", customer.external_id):
                customer_note = "[verified customer; the model's value was discarded]"
                logger.warning(
                    "the model named another customer for %s in %s; using the verified one",
                    self.remote.name,
                    context.conversation_public_id or "-",
                )
            args[argument] = customer.external_id
        elif args.pop(self.server.customer_id_argument, None) is not None:
            # Not a tool that takes a customer: an id the model adds is never passed on.
            logger.warning("dropped a customer id the model gave %s", self.remote.name)
        outcome = tool_call(self.server, self.remote.name, args)
        self._log(
            args, context, started, ok=outcome.ok, error=outcome.error, customer_note=customer_note
        )
        cards, quick_replies = (
            presentation_for(self.server, self.remote.name, outcome.data)
            if outcome.ok
            else ([], [])
        )
        result = ToolResult(
            ok=outcome.ok,
            text=outcome.text[:MAX_RESULT_CHARS],
            cards=cards,
            quick_replies=quick_replies,
        )
        return result, outcome

    def _refuse(
        self, args: dict[str, Any], context: ToolContext, started: float, reason: str
    ) -> ToolResult:
        self._log(args, context, started, ok=False, error=reason)
        return ToolResult(ok=False, text=reason)

    def _log(
        self,
        args: dict[str, Any],
        context: ToolContext,
        started: float,
        *,
        ok: bool,
        error: str,
        customer_note: str = "[redacted]",
    ) -> None:
        ToolCall.objects.create(
            agent_id=self.server.agent_id,
            server=self.server,
            conversation_public_id=context.conversation_public_id[:40],
            tool=self.remote.name[:120],
            arguments=_redacted(args, self.server.customer_id_argument, customer_note),
            ok=ok,
            error=error[:500],
            duration_ms=int((time.monotonic() - started) * 1000),
        )


def mcp_tools_for(agent: Agent, customer: CustomerContext | None) -> list[McpTool]:
    """Every allowed tool of the agent's active servers; private ones only for a verified
    customer."""
    verified = customer is not None and customer.verified and bool(customer.external_id)
    tools: list[McpTool] = []
    offered: set[str] = set()
    for server in McpServer.objects.filter(agent=agent, is_active=True).order_by("pk"):
        allowed = set(server.allowed_tools or [])
        if not allowed:
            continue
        for remote in tools_list(server):
            if remote.name not in allowed or remote.name in offered:
                continue  # a name two servers share goes to the first (models need unique names)
            if not TOOL_NAME.match(remote.name):
                logger.warning("MCP tool %r of server %s has an unusable name", remote.name, server)
                continue
            private = is_private(server, remote)
            if private and not verified:
                continue
            offered.add(remote.name)
            tools.append(McpTool(server=server, remote=remote, private=private))
    return tools


def is_private(server: McpServer, remote: RemoteTool) -> bool:
    properties = remote.input_schema.get("properties")
    takes_customer_id = isinstance(properties, dict) and server.customer_id_argument in properties
    return remote.name in (server.private_tools or []) or takes_customer_id


def _object_schema(schema: dict[str, Any]) -> dict[str, Any]:
    cleaned = copy.deepcopy(schema) if isinstance(schema, dict) else {}
    cleaned["type"] = "object"
    cleaned.setdefault("properties", {})
    return cleaned


def _model_schema(schema: dict[str, Any], customer_id_argument: str) -> dict[str, Any]:
    """The tool's input schema without the customer-id argument (the model never fills it)."""
    cleaned = _object_schema(schema)
    properties = cleaned.get("properties")
    if isinstance(properties, dict):
        properties.pop(customer_id_argument, None)
    required = cleaned.get("required")
    if isinstance(required, list):
        cleaned["required"] = [name for name in required if name != customer_id_argument]
    return cleaned


def _description(remote: RemoteTool, private: bool) -> str:
    description = remote.description.strip() or remote.name
    if private:
        description += " It runs for the signed-in customer; no customer id is needed."
    return description[:1000]


def _redacted(args: dict[str, Any], customer_id_argument: str, note: str) -> dict[str, Any]:
    """The arguments as logged: no customer id (`note` says whose it was), no secrets, no
    long values."""
    logged: dict[str, Any] = {}
    for name, value in list(args.items())[:30]:
        if name == customer_id_argument:
            logged[name] = note
        elif SECRET_ARGUMENT.search(name):
            logged[name] = "[redacted]"
        elif isinstance(value, str):
            logged[name] = value[:MAX_LOGGED_VALUE]
        elif isinstance(value, bool | int | float) or value is None:
            logged[name] = value
        else:
            logged[name] = str(value)[:MAX_LOGGED_VALUE]
    return logged
