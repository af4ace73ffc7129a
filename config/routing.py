from channels.auth import AuthMiddlewareStack
from django.urls import path

from conversations.consumers import WidgetConsumer
from conversations.inbox import InboxConsumer

websocket_urlpatterns = [
    path("ws/widget/", WidgetConsumer.as_asgi()),
    # Staff only, authenticated by the admin's session cookie (checks in the consumer).
    path("ws/inbox/", AuthMiddlewareStack(InboxConsumer.as_asgi())),
]
