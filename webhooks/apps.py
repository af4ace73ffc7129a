from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        from webhooks.models import WebhookEndpoint
        from webhooks.signals import endpoint_changed

        for signal in (post_save, post_delete):
            signal.connect(
                endpoint_changed, sender=WebhookEndpoint, dispatch_uid=f"webhook-{signal}"
            )
