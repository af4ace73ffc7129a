from django.apps import AppConfig


class ExperimentsConfig(AppConfig):
    name = "experiments"

    def ready(self) -> None:
        from experiments import signals  # noqa: F401  (keeps widget snapshots current)
        from experiments.assignment import VARIANT_SOURCE
        from widgets.delivery.variants import variant_source_register

        # Widgets sits below and never imports this app: it asks the source registered here.
        variant_source_register(VARIANT_SOURCE)
