from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from core.errors import ApiError
from widgets.models import CoreBuild
from widgets.publishing.core_builds import core_builds_register, core_channel_move


class Command(BaseCommand):
    help = (
        "Register the widget core builds listed in frontend/dist/releases.json; a new build "
        "becomes stable. Run after every build and deploy (make build, make run, compose)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dist", default=str(settings.FRONTEND_DIST), help="dist/ to read")
        parser.add_argument(
            "--no-promote",
            action="store_true",
            help="Register a new build without making it stable (pin agents to try it first).",
        )
        parser.add_argument(
            "--stable",
            metavar="VERSION",
            help="Then point stable at this registered build: the global rollback, from a shell.",
        )
        parser.add_argument(
            "--if-migrated",
            action="store_true",
            help="Do nothing (and succeed) while the database has no widget tables yet.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["if_migrated"] and CoreBuild._meta.db_table not in (
            connection.introspection.table_names()
        ):
            self.stdout.write("Widget builds not registered: migrate first.")
            return
        try:
            result = core_builds_register(
                dist=Path(options["dist"]), promote=not options["no_promote"]
            )
            if options["stable"]:
                build = CoreBuild.objects.filter(version=options["stable"]).first()
                if build is None:
                    raise CommandError(f"No registered build {options['stable']}.")
                core_channel_move(build=build, by=None, reason="command line")
                result.stable, result.stable_moved = build.version, True
        except ApiError as exc:
            raise CommandError(exc.message) from None
        added = ", ".join(result.added) or "none"
        self.stdout.write(f"Widget builds: new {added}; this build {result.current or '—'}.")
        moved = " (moved)" if result.stable_moved else ""
        self.stdout.write(self.style.SUCCESS(f"Stable: {result.stable or '—'}{moved}"))
        if result.missing_files:
            self.stderr.write(
                "Registered but not on this server (agents pinned to them get stable): "
                + ", ".join(result.missing_files)
            )
