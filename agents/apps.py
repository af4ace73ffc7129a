from django.apps import AppConfig


class AgentsConfig(AppConfig):
    name = "agents"

    def ready(self) -> None:
        from agents.knowledge import signals  # noqa: F401  (registers the knowledge index invalidation)
