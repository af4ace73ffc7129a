"""The integrator API's view of customers, their conversations and what the agent remembers.

Field names are camelCase like the rest of the API. `verified` and `externalId` come from
the site's signed tokens, so no input here accepts them.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from conversations.models import Conversation
from core.typed_input import TypedInput
from customers.identity import (
    MAX_ATTRIBUTE_KEY,
    MAX_ATTRIBUTE_VALUE,
    MAX_ATTRIBUTES,
    attributes_clean,
)
from customers.models import Customer, CustomerMemory
from customers.profiles import MAX_MEMORY_VALUE


@extend_schema_field(
    {
        "type": "object",
        "maxProperties": MAX_ATTRIBUTES,
        "additionalProperties": {
            "nullable": True,
            "oneOf": [
                {"type": "string", "maxLength": MAX_ATTRIBUTE_VALUE},
                {"type": "number"},
                {"type": "boolean"},
            ],
        },
        "description": f"Names of 1-{MAX_ATTRIBUTE_KEY} characters; values a string (up to "
        f"{MAX_ATTRIBUTE_VALUE} characters), a number, a boolean or null.",
    }
)
class AttributesField(serializers.JSONField):
    """What a site's token can carry about a customer: a flat object of scalars."""


class CustomerRefOut(serializers.Serializer[Customer]):
    """A customer as a conversation names them in the REST API (the platform's id, and the
    site's own as `externalId`); the whole record is `CustomerOut`."""

    id = serializers.IntegerField(read_only=True)
    externalId = serializers.CharField(source="external_id", read_only=True)
    verified = serializers.BooleanField(source="is_verified", read_only=True)
    name = serializers.CharField(read_only=True)
    email = serializers.EmailField(read_only=True, allow_blank=True)


class CustomerOut(serializers.Serializer[Customer]):
    """A customer of one of your workspaces."""

    # `conversationCount` reads the annotation views.customers_visible_to adds.
    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        return {
            "id": serializers.IntegerField(read_only=True),
            "workspace": serializers.CharField(source="workspace.slug", read_only=True),
            "externalId": serializers.CharField(source="external_id", read_only=True),
            "verified": serializers.BooleanField(source="is_verified", read_only=True),
            "email": serializers.EmailField(read_only=True, allow_blank=True),
            "name": serializers.CharField(read_only=True),
            "attributes": AttributesField(read_only=True),
            "createdAt": serializers.DateTimeField(source="created_at", read_only=True),
            "lastSeenAt": serializers.DateTimeField(
                source="last_seen_at", read_only=True, allow_null=True
            ),
            "conversationCount": serializers.IntegerField(
                source="conversation_count", read_only=True
            ),
        }


class ConversationOut(serializers.Serializer[Conversation]):
    """One of the customer's conversations, without its transcript."""

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        return {
            "publicId": serializers.CharField(source="public_id", read_only=True),
            "status": serializers.ChoiceField(choices=Conversation.Status.choices, read_only=True),
            "agentId": serializers.CharField(source="agent.public_id", read_only=True),
            "createdAt": serializers.DateTimeField(source="created_at", read_only=True),
            "lastMessageAt": serializers.DateTimeField(
                source="last_message_at", read_only=True, allow_null=True
            ),
            "csatScore": serializers.IntegerField(
                source="csat_score", read_only=True, allow_null=True
            ),
        }


class MemoryOut(serializers.Serializer[CustomerMemory]):
    """A fact the agent knows about the customer and where it came from."""

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        return {
            "id": serializers.IntegerField(read_only=True),
            "key": serializers.CharField(read_only=True),
            "value": serializers.CharField(read_only=True),
            "source": serializers.ChoiceField(
                choices=CustomerMemory.Source.choices, read_only=True
            ),
            "sourceRef": serializers.CharField(source="source_ref", read_only=True),
            "createdAt": serializers.DateTimeField(source="created_at", read_only=True),
            "updatedAt": serializers.DateTimeField(source="updated_at", read_only=True),
        }


class StrictInput(TypedInput):
    # Refuses fields it does not take: `{"verified": true}` is an error, not a silent no-op.
    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        refused = sorted(set(self.initial_data) - set(self.fields))
        if refused:
            raise serializers.ValidationError(
                {name: ["This field cannot be set here."] for name in refused}
            )
        return attrs


class StrictInputSchema(OpenApiSerializerExtension):
    """The schema says what StrictInput enforces: no property beyond the declared ones."""

    target_class = StrictInput
    match_subclasses = True

    def map_serializer(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        return {**schema, "additionalProperties": False}


class CustomerUpdateIn(StrictInput):
    """What staff may correct; `attributes` replaces the whole object."""

    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    attributes = AttributesField(required=False)

    def validate_attributes(self, value: object) -> dict[str, Any]:
        # The same shape a site may send in a token: a flat object of at most 50 scalars.
        try:
            return attributes_clean(value)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from exc


class MemoryCreateIn(StrictInput):
    """A staff fact; the same key again replaces the staff value."""

    key = serializers.CharField(max_length=100)
    value = serializers.CharField(max_length=MAX_MEMORY_VALUE)


class MemoryUpdateIn(StrictInput):
    """A corrected value; key and source stay."""

    value = serializers.CharField(max_length=MAX_MEMORY_VALUE)
