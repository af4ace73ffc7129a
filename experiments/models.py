"""The A/B experiments' tables: an experiment, its variants and its computed results.

The tables keep the names they had in the analytics app (`analytics_experiment`, ...): the
models moved here without a row being copied (migrations 0001 here, 0003 in analytics).
"""

from __future__ import annotations

from django.db import models


class Experiment(models.Model):
    """An A/B test on an agent's widget: variants override parts of its published config."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        RUNNING = "running", "Running"
        STOPPED = "stopped", "Stopped"
        COMPLETED = "completed", "Completed"

    class Metric(models.TextChoices):
        OPEN_RATE = "open_rate", "Open rate (opens / loads)"
        CONVERSATION_RATE = "conversation_rate", "Conversation starts / loads"
        RESOLUTION_RATE = "resolution_rate", "Resolved / conversations"
        CSAT = "csat", "Average CSAT"

    workspace_path = "workspace"

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="+"
    )
    agent = models.ForeignKey("agents.Agent", on_delete=models.CASCADE, related_name="experiments")
    key = models.SlugField(max_length=40, help_text="Stable id used in assignment and events.")
    name = models.CharField(max_length=120)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    primary_metric = models.CharField(
        max_length=20, choices=Metric.choices, default=Metric.OPEN_RATE
    )
    min_samples_per_variant = models.PositiveIntegerField(default=200)
    confidence = models.FloatField(default=0.95)
    auto_promote = models.BooleanField(
        default=False, help_text="Write the winner's overrides into the published widget config."
    )
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    winner = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "analytics_experiment"
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["agent", "key"], name="uniq_experiment_key")]

    def __str__(self) -> str:
        return self.name


class ExperimentVariant(models.Model):
    workspace_path = "experiment__workspace"

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="variants")
    key = models.SlugField(max_length=40)
    weight = models.PositiveSmallIntegerField(default=50)
    # Widget config fields this variant changes, e.g. {"greeting": "…", "position": …}.
    overrides = models.JSONField(default=dict, blank=True)

    class Meta:
        db_table = "analytics_experimentvariant"
        ordering = ["key"]
        constraints = [
            models.UniqueConstraint(fields=["experiment", "key"], name="uniq_variant_key")
        ]

    def __str__(self) -> str:
        return f"{self.experiment.key}:{self.key}"


class ExperimentResult(models.Model):
    """The latest computed results of an experiment (Celery), with the verdict."""

    workspace_path = "experiment__workspace"

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="results")
    computed_at = models.DateTimeField(auto_now_add=True)
    # Per variant: exposures, conversions, rate, ci_low, ci_high (and means for CSAT).
    variants = models.JSONField(default=dict)
    p_value = models.FloatField(null=True, blank=True)
    verdict = models.CharField(max_length=200)
    winner = models.CharField(max_length=40, blank=True)

    class Meta:
        db_table = "analytics_experimentresult"
        ordering = ["-computed_at"]

    def __str__(self) -> str:
        return f"{self.experiment}: {self.verdict}"
