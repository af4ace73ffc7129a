"""Re-seal every identity secret with the current SECRET_KEY (after rotating it)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from customers.models import IdentityKey
from security.sealing import seal, unseal


class Command(BaseCommand):
    help = (
        "Re-seal identity secrets with the current SECRET_KEY; run after rotating it, "
        "before removing the old key from SECRET_KEY_FALLBACKS."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        count = 0
        for key in IdentityKey.objects.filter(algorithm=IdentityKey.Algorithm.HS256).iterator():
            key.sealed_secret = seal(unseal(key.sealed_secret))
            key.save(update_fields=["sealed_secret"])
            count += 1
        self.stdout.write(f"re-sealed {count} identity secret(s)")
