"""The experiment models now belong to the experiments app (its 0001): state only.

The tables (`analytics_experiment`, `analytics_experimentvariant`,
`analytics_experimentresult`) and their rows stay where they are.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0002_metrics_alerts_experiments"),
        ("experiments", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.DeleteModel(name="ExperimentResult"),
                migrations.DeleteModel(name="ExperimentVariant"),
                migrations.DeleteModel(name="Experiment"),
            ],
        )
    ]
