from __future__ import annotations

from rest_framework import serializers

from agents.models import Agent


class AgentOut(serializers.ModelSerializer[Agent]):
    id = serializers.CharField(source="public_id", read_only=True)
    workspace: serializers.SlugRelatedField[Agent] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )
    avatar_url = serializers.URLField(read_only=True, allow_blank=True)  # "": no avatar

    class Meta:
        model = Agent
        fields = [
            "id",
            "workspace",
            "name",
            "greeting",
            "avatar_url",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields
