"""docs/webhooks.md's verification snippets (Python and Node) accept a real delivery,
refuse a wrong secret, a forged body and a replayed (old) request."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from webhooks.delivery import deliveries_due
from webhooks.services import webhook_endpoint_create, webhook_test_send
from webhooks.signing import signature_header

pytestmark = pytest.mark.django_db

DOC = Path(settings.BASE_DIR) / "docs" / "webhooks.md"


def snippet(language: str) -> str:
    found = re.search(rf"```{language}\n(.*?)```", DOC.read_text(), flags=re.DOTALL)
    assert found, f"docs/webhooks.md has no {language} snippet"
    return found.group(1)


@pytest.fixture
def delivered(
    agent: Any,
    owner: Any,
    receiver_factory: Any,
    django_capture_on_commit_callbacks: Any,
) -> tuple[str, bytes, str]:
    receiver = receiver_factory()
    endpoint, secret = webhook_endpoint_create(
        workspace=agent.workspace, url=receiver.url, events=["message.created"], by=owner
    )
    with django_capture_on_commit_callbacks(execute=True):
        webhook_test_send(endpoint)
    deliveries_due()  # in services mode the task went to the broker
    headers, body = receiver.requests[-1]
    return headers["CustomerAgent-Signature"], body, secret


def test_the_python_snippet(delivered: tuple[str, bytes, str]) -> None:
    header, body, secret = delivered
    namespace: dict[str, Any] = {}
    exec(snippet("python"), namespace)  # noqa: S102 (our own documentation, under test)
    verify = namespace["verify"]
    assert verify(header, body, secret)
    assert not verify(header, body, "whsec_not_it")
    assert not verify(header, body.replace(b"test", b"tost"), secret)
    replayed = signature_header([secret], int(time.time()) - 600, body)
    assert not verify(replayed, body, secret)


def test_the_node_snippet(delivered: tuple[str, bytes, str], tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        if os.environ.get("CI"):
            pytest.fail("node is needed (it builds the widget)")
        pytest.skip("no node here")
    header, body, secret = delivered
    script = tmp_path / "verify.cjs"
    script.write_text(
        snippet("js")
        + "\nconst [header, body, secret] = JSON.parse(process.argv[2]);\n"
        + "process.stdout.write(String(verify(header, Buffer.from(body, 'base64'), secret)));\n"
    )

    def run(*args: str) -> str:
        payload = json.dumps(
            [args[0], base64.b64encode(args[1].encode("latin-1")).decode(), args[2]]
        )
        done = subprocess.run(
            [node, str(script), payload], capture_output=True, text=True, timeout=30, check=True
        )
        return done.stdout

    text = body.decode("latin-1")
    assert run(header, text, secret) == "true"
    assert run(header, text, "whsec_not_it") == "false"
    replayed = signature_header([secret], int(time.time()) - 600, body)
    assert run(replayed, text, secret) == "false"
