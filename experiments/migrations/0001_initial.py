"""The experiment models move here from analytics (state only: the tables stay).

`analytics_experiment`, `analytics_experimentvariant` and `analytics_experimentresult`
keep their names and their rows; analytics 0003 forgets the models on its side.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("agents", "0005_api_keys"),
        ("analytics", "0002_metrics_alerts_experiments"),
    ]

    state_operations = [
        migrations.CreateModel(
            name="Experiment",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "key",
                    models.SlugField(
                        help_text="Stable id used in assignment and events.", max_length=40
                    ),
                ),
                ("name", models.CharField(max_length=120)),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("draft", "Draft"),
                            ("running", "Running"),
                            ("stopped", "Stopped"),
                            ("completed", "Completed"),
                        ],
                        default="draft",
                        max_length=10,
                    ),
                ),
                (
                    "primary_metric",
                    models.CharField(
                        choices=[
                            ("open_rate", "Open rate (opens / loads)"),
                            ("conversation_rate", "Conversation starts / loads"),
                            ("resolution_rate", "Resolved / conversations"),
                            ("csat", "Average CSAT"),
                        ],
                        default="open_rate",
                        max_length=20,
                    ),
                ),
                ("min_samples_per_variant", models.PositiveIntegerField(default=200)),
                ("confidence", models.FloatField(default=0.95)),
                (
                    "auto_promote",
                    models.BooleanField(
                        default=False,
                        help_text="Write the winner's overrides into the published widget config.",
                    ),
                ),
                ("started_at", models.DateTimeField(blank=True, null=True)),
                ("ended_at", models.DateTimeField(blank=True, null=True)),
                ("winner", models.CharField(blank=True, max_length=40)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "agent",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="experiments",
                        to="agents.agent",
                    ),
                ),
                (
                    "workspace",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="agents.workspace",
                    ),
                ),
            ],
            options={
                "db_table": "analytics_experiment",
                "ordering": ["-created_at"],
                "constraints": [
                    models.UniqueConstraint(fields=("agent", "key"), name="uniq_experiment_key")
                ],
            },
        ),
        migrations.CreateModel(
            name="ExperimentResult",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("computed_at", models.DateTimeField(auto_now_add=True)),
                ("variants", models.JSONField(default=dict)),
                ("p_value", models.FloatField(blank=True, null=True)),
                ("verdict", models.CharField(max_length=200)),
                ("winner", models.CharField(blank=True, max_length=40)),
                (
                    "experiment",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="results",
                        to="experiments.experiment",
                    ),
                ),
            ],
            options={
                "db_table": "analytics_experimentresult",
                "ordering": ["-computed_at"],
            },
        ),
        migrations.CreateModel(
            name="ExperimentVariant",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("key", models.SlugField(max_length=40)),
                ("weight", models.PositiveSmallIntegerField(default=50)),
                ("overrides", models.JSONField(blank=True, default=dict)),
                (
                    "experiment",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="variants",
                        to="experiments.experiment",
                    ),
                ),
            ],
            options={
                "db_table": "analytics_experimentvariant",
                "ordering": ["key"],
                "constraints": [
                    models.UniqueConstraint(fields=("experiment", "key"), name="uniq_variant_key")
                ],
            },
        ),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[], state_operations=state_operations
        )
    ]
