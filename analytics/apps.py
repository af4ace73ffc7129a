from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "analytics"

    def ready(self) -> None:
        from celery.signals import task_failure

        from analytics.signals import celery_task_failed

        # Counted wherever tasks run: a worker process, or the web process when eager.
        task_failure.connect(celery_task_failed, weak=False, dispatch_uid="analytics-failures")
