from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "security"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from security.blocks import ip_blocks_forget
        from security.models import IpBlock

        # Cache invalidation only (a receiver, so admin, API and shell edits all count):
        # a stale list would keep a lifted block, or miss a new one, for up to 30 s.
        def forget(**kwargs: object) -> None:
            ip_blocks_forget()

        post_save.connect(forget, sender=IpBlock, weak=False, dispatch_uid="ipblock-save")
        post_delete.connect(forget, sender=IpBlock, weak=False, dispatch_uid="ipblock-delete")
