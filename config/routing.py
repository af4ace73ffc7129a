from channels.auth import AuthMiddlewareStack
from django.urls import path

from conversations.sockets.faults import survives_service_faults
from conversations.sockets.inbox_consumer import InboxConsumer
from conversations.sockets.widget_consumer import WidgetConsumer

websocket_urlpatterns = [
    path("ws/widget/", WidgetConsumer.as_asgi()),
    # Staff only, authenticated by the admin's session cookie (checks in the consumer); the
    # session is read from PostgreSQL before the consumer runs, so a fault there closes 1013.
    path("ws/inbox/", survives_service_faults(AuthMiddlewareStack(InboxConsumer.as_asgi()))),
]
