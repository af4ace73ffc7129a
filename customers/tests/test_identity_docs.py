"""docs/identity.md cannot rot: its examples run, and its error tables match the code.

Code blocks and tables marked `<!-- tested: NAME -->` in the guide are extracted and
checked here: the Python token and userHash examples are imported and must produce what
`identity_verify` (and the widget session endpoint) accept; the dependency-free Node
userHash example runs under `node`; the jsonwebtoken example (its package is not
installed here) is syntax-checked by `node --check`; every refusal reason the code can
give is in a table, with the exact message the API answers.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.test import Client

import customers.identity
from agents.models import Agent
from conftest import SITE_ORIGIN
from core.errors import InvalidCustomerToken
from customers.identity import identity_verify, token_diagnose
from customers.keys import identity_secret_rotate

pytestmark = pytest.mark.django_db

GUIDE = Path(settings.BASE_DIR) / "docs" / "identity.md"
SESSION_URL = "/api/v2/widget/session"
CUSTOMER_ID = "cust_1042"


# ---- reading the guide ----------------------------------------------------------------


def _guide() -> str:
    return GUIDE.read_text(encoding="utf-8")


def doc_block(name: str) -> str:
    """The fenced code block right after `<!-- tested: name -->`."""
    found = re.search(
        rf"<!-- tested: {re.escape(name)} -->\s*\n```[\w-]*\n(.*?)\n```", _guide(), re.S
    )
    assert found, f"docs/identity.md has no code block marked 'tested: {name}'"
    return found.group(1)


def doc_table(name: str) -> dict[str, str]:
    """reason -> message, from the table right after `<!-- tested: name -->`."""
    found = re.search(rf"<!-- tested: {re.escape(name)} -->\s*\n((?:\|.*\n?)+)", _guide())
    assert found, f"docs/identity.md has no table marked 'tested: {name}'"
    rows: dict[str, str] = {}
    for line in found.group(1).splitlines():
        row = re.match(r"\| `(\w+)` \| `([^`]+)` \|", line)
        if row:
            assert row.group(1) not in rows, f"{row.group(1)} is twice in table {name}"
            rows[row.group(1)] = row.group(2)
    assert rows, f"table {name} has no `reason` | `message` rows"
    return rows


def doc_module(name: str, tmp_path: Path) -> ModuleType:
    """Imports a Python block of the guide as a module, as an integrator's server would."""
    path = tmp_path / f"{name.replace('-', '_')}.py"
    path.write_text(doc_block(name), encoding="utf-8")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def node_binary() -> str:
    node = shutil.which("node")
    if node is None:
        if os.environ.get("CI") == "true":
            pytest.fail("node is not installed, and CI must run the guide's Node examples")
        pytest.skip("node is not installed")
    return node


# ---- fixtures ---------------------------------------------------------------------------


@pytest.fixture
def secret(agent: Agent) -> str:
    return identity_secret_rotate(agent_pk=agent.pk, workspace_id=agent.workspace_id)[1]


@pytest.fixture
def site_env(monkeypatch: pytest.MonkeyPatch, agent: Agent, secret: str) -> dict[str, str]:
    """The environment the guide's examples read: the real secret and agent id."""
    values = {"CUSTOMERAGENT_IDENTITY_SECRET": secret, "CUSTOMERAGENT_AGENT_ID": agent.public_id}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


@pytest.fixture
def default_limits(settings: Any) -> None:
    """The documented defaults: 24 h lifetime, 30 s leeway."""
    settings.IDENTITY_TOKEN_MAX_LIFETIME_SECONDS = 86400
    settings.IDENTITY_TOKEN_LEEWAY_SECONDS = 30


def _verify(agent: Agent, **kwargs: Any) -> Any:
    return identity_verify(agent_pk=agent.pk, agent_public_id=agent.public_id, **kwargs)


def _start(client: Client, agent: Agent, **body: Any) -> Any:
    return client.post(
        SESSION_URL,
        data=json.dumps({"agentId": agent.public_id, **body}),
        content_type="application/json",
        HTTP_ORIGIN=SITE_ORIGIN,
    )


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _tampered(token: str, **changes: Any) -> str:
    """The same token with its payload changed and the original signature kept."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return ".".join([header, _b64({**claims, **changes}), signature])


# ---- the Python examples ----------------------------------------------------------------


def test_the_python_token_example_makes_a_token_we_verify(
    agent: Agent, site_env: dict[str, str], tmp_path: Path, default_limits: None
) -> None:
    example = doc_module("python-token", tmp_path)
    token = example.customer_token(
        CUSTOMER_ID, email="ana@example.com", name="Ana Souza", attributes={"plan": "pro"}
    )
    identity = _verify(agent, customer_token=token)
    assert identity is not None and identity.verified and identity.method == "token"
    assert identity.external_id == CUSTOMER_ID
    assert (identity.email, identity.name) == ("ana@example.com", "Ana Souza")
    assert identity.attributes == {"plan": "pro"}
    assert identity.expires_at is not None
    assert identity.expires_at - datetime.now(UTC) <= timedelta(hours=24)
    # Only the id is required of the example's caller.
    assert _verify(agent, customer_token=example.customer_token(42)).external_id == "42"


def test_a_tampered_example_token_is_refused(
    agent: Agent, site_env: dict[str, str], tmp_path: Path
) -> None:
    token = doc_module("python-token", tmp_path).customer_token(CUSTOMER_ID)
    forged = _tampered(token, sub="someone_else")
    with pytest.raises(InvalidCustomerToken) as refused:
        _verify(agent, customer_token=forged)
    assert refused.value.message == doc_table("token-errors")["bad_signature"]
    assert _verify(agent, customer_token=token).external_id == CUSTOMER_ID


def test_the_python_user_hash_example_makes_a_hash_we_verify(
    agent: Agent, site_env: dict[str, str], tmp_path: Path
) -> None:
    user_hash = doc_module("python-userhash", tmp_path).user_hash(CUSTOMER_ID)
    assert re.fullmatch(r"[0-9a-f]{64}", user_hash)
    identity = _verify(agent, customer={"id": CUSTOMER_ID}, user_hash=user_hash)
    assert identity is not None and identity.verified and identity.method == "hmac"
    assert identity.external_id == CUSTOMER_ID
    with pytest.raises(InvalidCustomerToken):
        _verify(agent, customer={"id": "cust_other"}, user_hash=user_hash)


def test_the_python_examples_start_a_verified_widget_session(
    client: Client, agent: Agent, site_env: dict[str, str], tmp_path: Path
) -> None:
    token = doc_module("python-token", tmp_path).customer_token(CUSTOMER_ID, name="Ana")
    response = _start(client, agent, customerToken=token)
    assert response.status_code == 200, response.content
    assert response.json()["customer"] == {
        "id": CUSTOMER_ID,
        "verified": True,
        "email": "",
        "name": "Ana",
    }
    user_hash = doc_module("python-userhash", tmp_path).user_hash(CUSTOMER_ID)
    response = _start(client, agent, customer={"id": CUSTOMER_ID}, userHash=user_hash)
    assert response.status_code == 200, response.content
    assert response.json()["customer"]["verified"] is True


# ---- the Node examples ------------------------------------------------------------------


def test_the_node_user_hash_example_matches_and_verifies(
    agent: Agent, site_env: dict[str, str], tmp_path: Path
) -> None:
    node = node_binary()
    script = doc_block("node-userhash") + "\nprocess.stdout.write(userHash(process.argv[1]));\n"
    done = subprocess.run(
        [node, "-e", script, CUSTOMER_ID],
        env={**os.environ, **site_env},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    node_hash = done.stdout.strip()
    assert node_hash == doc_module("python-userhash", tmp_path).user_hash(CUSTOMER_ID)
    identity = _verify(agent, customer={"id": CUSTOMER_ID}, user_hash=node_hash)
    assert identity is not None and identity.verified


def test_the_node_token_example_is_valid_javascript(tmp_path: Path) -> None:
    """jsonwebtoken is not installed here: check the syntax, which is what can rot."""
    node = node_binary()
    path = tmp_path / "node_token.js"
    path.write_text(doc_block("node-token") + "\nmodule.exports = customerToken;\n")
    done = subprocess.run(
        [node, "--check", str(path)], capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 0, done.stderr
    assert 'algorithm: "HS256"' in doc_block("node-token")


# ---- the error tables -------------------------------------------------------------------


def _reasons_in_code() -> set[str]:
    source = Path(customers.identity.__file__).read_text(encoding="utf-8")
    return set(re.findall(r'_refuse\(\s*"(\w+)"', source))


def test_every_refusal_reason_is_documented() -> None:
    documented = set(doc_table("token-errors")) | set(doc_table("userhash-errors"))
    assert _reasons_in_code(), "no _refuse(...) found: has customers/identity.py changed?"
    assert _reasons_in_code() == documented


def _sign(secret: str, **claims: Any) -> str:
    now = int(datetime.now(UTC).timestamp())
    body = {"sub": CUSTOMER_ID, "iat": now, "exp": now + 3600, **claims}
    return jwt.encode({k: v for k, v in body.items() if v is not None}, secret, algorithm="HS256")


def test_the_token_error_table_gives_the_apis_messages(agent: Agent, default_limits: None) -> None:
    retired = identity_secret_rotate(agent_pk=agent.pk, workspace_id=agent.workspace_id)[1]
    live = identity_secret_rotate(
        agent_pk=agent.pk, workspace_id=agent.workspace_id, grace=timedelta(0)
    )[1]
    now = int(datetime.now(UTC).timestamp())
    es256 = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    tokens: dict[str, Callable[[], str]] = {
        "malformed": lambda: "not-a-jwt",
        "too_large": lambda: "a" * 8193,
        "algorithm_not_allowed": lambda: _b64({"alg": "none"}) + "." + _b64({"sub": "x"}) + ".",
        "no_key": lambda: jwt.encode({"sub": "x", "exp": now + 60}, es256, algorithm="ES256"),
        "expired": lambda: _sign(live, iat=now - 7200, exp=now - 3600),
        "not_yet_valid": lambda: _sign(live, nbf=now + 3600),
        "missing_claim": lambda: _sign(live, sub=None),
        "invalid_claim": lambda: _sign(live, sub="x" * 256),
        "lifetime_too_long": lambda: _sign(live, exp=now + 48 * 3600),
        "wrong_audience": lambda: _sign(live, aud="agt_someoneelse"),
        "key_retired": lambda: _sign(retired),
        "bad_signature": lambda: _sign("0" * 64),
    }
    table = doc_table("token-errors")
    assert set(table) == set(tokens)
    assert _verify(agent, customer_token=_sign(live)).verified
    for reason, make in tokens.items():
        identity, problem = token_diagnose(
            make(), agent_pk=agent.pk, agent_public_id=agent.public_id
        )
        assert identity is None and problem is not None, reason
        assert (problem.reason, problem.message) == (reason, table[reason])


def test_the_user_hash_error_table_gives_the_apis_messages(
    agent: Agent, other_agent: Agent, secret: str
) -> None:
    table = doc_table("userhash-errors")
    cases: dict[str, tuple[Agent, dict[str, Any]]] = {
        "malformed": (agent, {"customer": {"id": CUSTOMER_ID}, "user_hash": "abc123"}),
        "missing_claim": (agent, {"user_hash": "0" * 64}),
        "no_key": (other_agent, {"customer": {"id": CUSTOMER_ID}, "user_hash": "0" * 64}),
        "bad_signature": (agent, {"customer": {"id": CUSTOMER_ID}, "user_hash": "0" * 64}),
    }
    assert set(table) == set(cases)
    for reason, (whose, kwargs) in cases.items():
        with pytest.raises(InvalidCustomerToken) as refused:
            _verify(whose, **kwargs)
        assert refused.value.message == table[reason], reason


def test_the_identity_required_message_is_the_apis(client: Client, agent: Agent) -> None:
    agent.identity_required = True
    agent.save(update_fields=["identity_required"])
    response = _start(client, agent, customer={"id": CUSTOMER_ID})
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "invalid_customer_token"
    assert f"`{error['message']}`" in _guide()
