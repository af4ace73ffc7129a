"""The agents app's admin: knowledge, MCP servers and tool calls are registered here;
`AgentAdmin` is the base of the agent page that widgets/admin composes and registers."""

from agents.admin.agent import AgentAdmin, AgentForm
from agents.admin.integrations import McpServerForm, McpServerInline, ToolCallAdmin
from agents.admin.knowledge import KnowledgeArticleAdmin, KnowledgeArticleInline

__all__ = [
    "AgentAdmin",
    "AgentForm",
    "KnowledgeArticleAdmin",
    "KnowledgeArticleInline",
    "McpServerForm",
    "McpServerInline",
    "ToolCallAdmin",
]
