from django.apps import AppConfig


class WidgetsConfig(AppConfig):
    name = "widgets"

    def ready(self) -> None:
        from corsheaders.signals import check_request_enabled

        from widgets import signals  # noqa: F401  (registers cache invalidation)
        from widgets.delivery.cors import cors_allow_widget_origin

        check_request_enabled.connect(cors_allow_widget_origin, dispatch_uid="widget-cors")
