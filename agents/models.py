from __future__ import annotations

from django.db import models

from security.ids import new_agent_id
from workspaces.models import Workspace


class Agent(models.Model):
    """An AI support agent; its public id is what customer sites embed."""

    workspace_path = "workspace"

    public_id = models.CharField(max_length=40, unique=True, default=new_agent_id, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="agents")
    name = models.CharField(max_length=120)
    greeting = models.CharField(max_length=500, blank=True, default="Hi! How can I help you today?")
    avatar_url = models.URLField(blank=True)
    is_active = models.BooleanField(default=True)
    pii_masking = models.JSONField(
        default=dict,
        blank=True,
        help_text="What to mask in visitors' messages before they are stored or sent to a "
        'model. Empty masks everything; e.g. {"kinds": ["card", "iban", "national_id"]} or '
        '{"enabled": false}.',
    )
    pii_region = models.CharField(
        max_length=2,
        default="US",
        help_text="Country (ISO 3166) whose national phone-number format visitors use.",
    )
    identity_required = models.BooleanField(
        default=False,
        help_text="Only customers verified by a token from your site (customerToken or "
        "userHash) may chat; anonymous and merely identified visitors are refused.",
    )

    # --- How it answers (agents.answering.responders) ------------------------------------------
    class ResponderKind(models.TextChoices):
        KNOWLEDGE = "knowledge", "Knowledge base"
        LLM = "llm", "Language model (OpenAI-compatible)"

    responder = models.CharField(
        max_length=16, choices=ResponderKind.choices, default=ResponderKind.KNOWLEDGE
    )
    system_prompt = models.TextField(
        blank=True, help_text="Instructions for the model: tone, scope, what never to do."
    )
    llm_base_url = models.URLField(
        blank=True, help_text="An OpenAI-compatible server; empty uses LLM_BASE_URL."
    )
    llm_model = models.CharField(max_length=120, blank=True, help_text="Empty uses LLM_MODEL.")
    # The API key, sealed (security.sealing). Empty: LLM_API_KEY for the platform's server,
    # no key for the agent's own (agents.answering.responders.llm_client).
    llm_api_key_sealed = models.TextField(blank=True, editable=False)
    llm_max_output_tokens = models.PositiveIntegerField(default=600)
    llm_timeout_seconds = models.PositiveSmallIntegerField(default=20)
    monthly_token_budget = models.PositiveIntegerField(
        null=True, blank=True, help_text="Model tokens this agent may use per calendar month."
    )
    customer_daily_token_budget = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Model tokens one visitor or customer may use per day.",
    )

    # --- When a person takes over (conversations.handoff) -----------------------------
    handoff_keywords = models.JSONField(
        default=list,
        blank=True,
        help_text='Words that hand the conversation to a person, e.g. ["refund", "lawyer"].',
    )
    handoff_vip_attribute = models.CharField(
        max_length=100,
        blank=True,
        help_text="A customer attribute that, when true, sends them straight to a person.",
    )
    business_hours = models.JSONField(
        default=dict,
        blank=True,
        help_text='When staff answer, e.g. {"timezone": "Europe/Paris", "days": {"mon": '
        '[["09:00", "17:30"]], "tue": [["09:00", "17:30"]]}}. Empty: always.',
    )
    away_message = models.CharField(
        max_length=500,
        blank=True,
        default="Our team is away right now; we will answer here as soon as we are back.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["workspace", "name"], name="agent_ws_name")]

    def __str__(self) -> str:
        return f"{self.name} ({self.public_id})"


class KnowledgeArticle(models.Model):
    """A piece of the agent's knowledge base that the default responder answers from."""

    workspace_path = "agent__workspace"

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="articles")
    title = models.CharField(max_length=200)
    body = models.TextField()
    source_url = models.URLField(blank=True)
    is_published = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]
        indexes = [models.Index(fields=["agent", "is_published"], name="article_agent_published")]

    def __str__(self) -> str:
        return self.title


class ModelUsage(models.Model):
    """Model tokens used per agent, owner (visitor or customer) and day: budgets read it."""

    workspace_path = "agent__workspace"

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="model_usage")
    # conversations' owner key ("c-<customer>" or "v-<visitor>"), stored as text.
    owner_key = models.CharField(max_length=80)
    day = models.DateField()
    calls = models.PositiveIntegerField(default=0)
    prompt_tokens = models.PositiveBigIntegerField(default=0)
    completion_tokens = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agent", "owner_key", "day"], name="uniq_model_usage")
        ]
        indexes = [models.Index(fields=["agent", "day"], name="model_usage_agent_day")]

    def __str__(self) -> str:
        return f"{self.owner_key} on {self.day}: {self.prompt_tokens + self.completion_tokens}"


class McpServer(models.Model):
    """A tool server (Model Context Protocol) an agent may call, e.g. a Shopify store's."""

    class Transport(models.TextChoices):
        STREAMABLE_HTTP = "streamable_http", "Streamable HTTP"
        SSE = "sse", "Server-sent events (legacy)"

    class Preset(models.TextChoices):
        CUSTOM = "custom", "Custom"
        SHOPIFY = "shopify", "Shopify store"

    workspace_path = "agent__workspace"

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="mcp_servers")
    name = models.CharField(max_length=120)
    url = models.URLField(max_length=500)
    transport = models.CharField(
        max_length=20, choices=Transport.choices, default=Transport.STREAMABLE_HTTP
    )
    preset = models.CharField(max_length=16, choices=Preset.choices, default=Preset.CUSTOM)
    # Auth headers as sealed JSON (security.sealing), e.g. {"Authorization": "Bearer …"}.
    sealed_headers = models.TextField(blank=True, editable=False)
    allowed_tools = models.JSONField(
        default=list, blank=True, help_text="Tool names the agent may call; empty allows none."
    )
    private_tools = models.JSONField(
        default=list,
        blank=True,
        help_text="Tools that read one customer's data: called only for a verified customer, "
        "with their id from the session, never from the conversation.",
    )
    customer_id_argument = models.CharField(
        max_length=60,
        default="customer_id",
        help_text="The argument of private tools that receives the verified customer's id.",
    )
    timeout_seconds = models.PositiveSmallIntegerField(default=10)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "MCP server"

    def __str__(self) -> str:
        return f"{self.name} ({self.url})"


class ToolCall(models.Model):
    """One tool call made for a conversation: what, for whom, how it went (no secrets)."""

    workspace_path = "agent__workspace"

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="tool_calls")
    server = models.ForeignKey(McpServer, on_delete=models.SET_NULL, null=True, blank=True)
    conversation_public_id = models.CharField(max_length=40, blank=True)
    tool = models.CharField(max_length=120)
    arguments = models.JSONField(default=dict, blank=True)
    ok = models.BooleanField(default=False)
    error = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["agent", "-created_at"], name="toolcall_agent_recent")]

    def __str__(self) -> str:
        return f"{self.tool} ({'ok' if self.ok else 'failed'})"
