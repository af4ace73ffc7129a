"""A trivial DRF POST: parse the JSON body, answer a constant session-shaped object."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class FloorSessionView(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes: list[Any] = []

    def post(self, request: Request) -> Response:
        agent_id = request.data.get("agentId") if isinstance(request.data, dict) else None
        return Response({"token": "floor", "visitorId": "vis_floor", "agentId": agent_id})
