"""An agent's MCP server as the admin and the REST API both save it: one set of field
rules (each returns the clean value or raises ValueError saying what is wrong) and one
save (preset defaults, sealed headers, an audit entry naming the headers changed)."""

from __future__ import annotations

import re
from typing import Any

from agents.integrations.mcp import headers_seal, mcp_url_problem
from agents.integrations.presets import PRESETS, preset_defaults_apply
from agents.models import McpServer
from security.audit import audit_record

TOOL_NAME_MAX_CHARS = 120
TIMEOUT_SECONDS = (1, 60)
DEFAULT_CUSTOMER_ID_ARGUMENT = "customer_id"
ARGUMENT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,59}")


def server_url_validate(url: str) -> str:
    """An http(s) URL our servers may call (agents.integrations.mcp.mcp_url_problem)."""
    if not url.lower().startswith(("https://", "http://")):
        raise ValueError("Enter the server's http(s) URL.")
    problem = mcp_url_problem(url)
    if problem:
        raise ValueError(problem)
    return url


def tool_names_validate(value: Any) -> list[str]:
    """A list of tool names, each once, sorted."""
    if not isinstance(value, list) or not all(
        isinstance(name, str) and 0 < len(name.strip()) <= TOOL_NAME_MAX_CHARS for name in value
    ):
        raise ValueError('Enter a JSON list of tool names, e.g. ["search_products"].')
    return sorted({name.strip() for name in value})


def private_tools_check(*, allowed: list[str], private: list[str], preset: str) -> None:
    """A private tool chosen (it reads one customer's data) must be an allowed one too,
    counting the tools the preset allows when that list is left empty. (Left empty, the
    private list is the preset's, and only its allowed tools are ever offered.)"""
    chosen = PRESETS.get(preset)
    if not allowed and chosen is not None:
        allowed = list(chosen.allowed_tools)
    if not set(private) <= set(allowed):
        raise ValueError("Private tools must also be allowed tools.")


def customer_id_argument_validate(name: str, *, preset: str) -> str:
    """The argument that receives the verified customer's id; empty takes the preset's."""
    name = name.strip()
    if not name:
        chosen = PRESETS.get(preset)
        return chosen.customer_id_argument if chosen else DEFAULT_CUSTOMER_ID_ARGUMENT
    if not ARGUMENT_NAME.fullmatch(name):
        raise ValueError("Use the argument's name as the tools spell it.")
    return name


def timeout_validate(seconds: Any) -> int:
    low, high = TIMEOUT_SECONDS
    if isinstance(seconds, bool) or not isinstance(seconds, int) or not low <= seconds <= high:
        raise ValueError(f"Between {low} and {high} seconds.")
    return seconds


def mcp_server_prepare(server: McpServer, *, headers: dict[str, str] | None) -> None:
    """A preset fills what was left blank; new headers are sealed (None keeps the stored
    ones, {} removes them)."""
    preset_defaults_apply(server)
    if headers is not None:
        server.sealed_headers = headers_seal(headers)


def mcp_server_save(server: McpServer, *, headers: dict[str, str] | None, actor: Any) -> McpServer:
    """Save a server (new or changed) from the admin or the API; changed headers are
    audited by name, never by value."""
    mcp_server_prepare(server, headers=headers)
    server.save()
    if headers is not None:
        audit_record(
            action="mcp.headers_changed",
            target=f"{server.name} ({server.url})",
            actor=actor,
            workspace_id=server.agent.workspace_id,
            changes={"headers": sorted(headers)},
        )
    return server
