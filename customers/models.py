from __future__ import annotations

from django.db import models


class Customer(models.Model):
    """A person a workspace's agents talk to, known by the site's own id for them.

    `is_verified` rows were proven by a signed token; unverified rows hold claims a page
    made about itself and never merge into a verified customer's data.
    """

    workspace_path = "workspace"

    # A string reference: customers sits below agents in the import order.
    workspace = models.ForeignKey(
        "agents.Workspace", on_delete=models.CASCADE, related_name="customers"
    )
    external_id = models.CharField(max_length=255)
    is_verified = models.BooleanField(default=False)
    email = models.EmailField(blank=True)
    name = models.CharField(max_length=200, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "external_id", "is_verified"], name="uniq_customer_identity"
            )
        ]
        indexes = [models.Index(fields=["workspace", "email"], name="customer_ws_email")]

    def __str__(self) -> str:
        label = self.name or self.email or self.external_id
        return f"{label}{'' if self.is_verified else ' (unverified)'}"
