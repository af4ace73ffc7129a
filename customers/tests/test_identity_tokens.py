"""The customer-token attack suite: every forgery and mistake is refused cleanly.

Each case must end in InvalidCustomerToken (401 invalid_customer_token) with a reason in
the log, never in an accepted identity and never in a 500.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
import time_machine
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from agents.models import Agent
from core.errors import InvalidCustomerToken, InvalidRequest
from customers.identity import identity_verify, token_diagnose
from customers.keys import identity_key_retire, identity_public_key_add, identity_secret_rotate
from customers.models import IdentityKey
from security.sealing import unseal

pytestmark = pytest.mark.django_db


def _now() -> datetime:
    return datetime.now(UTC)


def _claims(agent: Agent, **overrides: Any) -> dict[str, Any]:
    now = _now()
    claims: dict[str, Any] = {
        "sub": "cust_42",
        "email": "Ana@Example.com",
        "name": "Ana Souza",
        "attributes": {"plan": "pro", "orders": 3},
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(hours=1)).timestamp()),
        "aud": agent.public_id,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


@pytest.fixture
def secret(agent: Agent) -> str:
    return identity_secret_rotate(agent_pk=agent.pk, workspace_id=agent.workspace_id)[1]


def _verify(agent: Agent, token: object, **kwargs: Any) -> Any:
    return identity_verify(
        agent_pk=agent.pk, agent_public_id=agent.public_id, customer_token=token, **kwargs
    )


def _refused(agent: Agent, token: object, reason: str, caplog: Any, **kwargs: Any) -> str:
    caplog.clear()
    with (
        caplog.at_level(logging.WARNING, logger="customeragent.security"),
        pytest.raises(InvalidCustomerToken) as refused,
    ):
        _verify(agent, token, **kwargs)
    assert refused.value.code == "invalid_customer_token"
    assert refused.value.status == 401
    assert any(reason in r.getMessage() for r in caplog.records), caplog.text
    return refused.value.message


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_a_good_hs256_token_verifies_with_its_claims(agent: Agent, secret: str) -> None:
    token = jwt.encode(_claims(agent), secret, algorithm="HS256")
    identity = _verify(agent, token)
    assert identity.verified and identity.method == "token"
    assert (identity.external_id, identity.email, identity.name) == (
        "cust_42",
        "ana@example.com",
        "Ana Souza",
    )
    assert identity.attributes == {"plan": "pro", "orders": 3}
    assert identity.expires_at is not None


def test_the_secret_is_256_bits_and_sealed_at_rest(agent: Agent, secret: str) -> None:
    assert len(bytes.fromhex(secret)) == 32
    key = IdentityKey.objects.get(agent=agent)
    assert secret not in key.sealed_secret
    assert unseal(key.sealed_secret) == secret


def test_alg_none_is_refused(agent: Agent, secret: str, caplog: Any) -> None:
    token = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims(agent))}."
    _refused(agent, token, "algorithm_not_allowed", caplog)
    token = jwt.encode(_claims(agent), None, algorithm="none")  # type: ignore[arg-type]
    _refused(agent, token, "algorithm_not_allowed", caplog)


def test_hs256_signed_with_the_sites_rsa_public_key_is_refused(agent: Agent, caplog: Any) -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    identity_public_key_add(agent_pk=agent.pk, workspace_id=agent.workspace_id, pem=pem)
    # The classic confusion: the public key (which anyone has) used as an HMAC secret.
    header = _b64({"alg": "HS256", "typ": "JWT"})
    body = _b64(_claims(agent))
    signature = hmac.new(pem.encode(), f"{header}.{body}".encode(), hashlib.sha256).digest()
    forged = f"{header}.{body}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"
    _refused(agent, forged, "no_key", caplog)
    # ...and the genuine RS256 token from the site's private key works.
    good = jwt.encode(_claims(agent), private, algorithm="RS256")
    assert _verify(agent, good).external_id == "cust_42"


def test_es256_public_keys_work_and_weak_or_private_keys_are_refused(agent: Agent) -> None:
    private = ec.generate_private_key(ec.SECP256R1())
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    key = identity_public_key_add(
        agent_pk=agent.pk, workspace_id=agent.workspace_id, pem=public_pem
    )
    assert key.algorithm == "ES256"
    token = jwt.encode(_claims(agent), private, algorithm="ES256", headers={"kid": key.key_id})
    assert _verify(agent, token).verified
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()  # noqa: S505 (the point)
    weak_pem = weak.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    private_pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    for pem in (weak_pem, private_pem, "not a key", ""):
        with pytest.raises(InvalidRequest):
            identity_public_key_add(agent_pk=agent.pk, workspace_id=agent.workspace_id, pem=pem)


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"exp": int((_now() - timedelta(minutes=5)).timestamp())}, "expired"),
        ({"nbf": int((_now() + timedelta(minutes=10)).timestamp())}, "not_yet_valid"),
        ({"iat": int((_now() + timedelta(minutes=10)).timestamp())}, "not_yet_valid"),
        ({"exp": int((_now() + timedelta(days=30)).timestamp())}, "lifetime_too_long"),
        (
            {
                "iat": int((_now() - timedelta(hours=30)).timestamp()),
                "exp": int((_now() + timedelta(minutes=30)).timestamp()),
            },
            "lifetime_too_long",
        ),
        ({"aud": "agt_someoneElse1234"}, "wrong_audience"),
        ({"aud": ["agt_someoneElse1234", "agt_another12345678"]}, "wrong_audience"),
        ({"sub": None}, "missing_claim"),
        ({"exp": None}, "missing_claim"),
        ({"sub": ""}, "invalid_claim"),
        ({"sub": 42}, "invalid_claim"),
        ({"email": "not-an-address"}, "invalid_claim"),
        ({"attributes": {"nested": {"no": "objects"}}}, "invalid_claim"),
        ({"attributes": {f"k{i}": i for i in range(51)}}, "invalid_claim"),
        ({"attributes": "plan=pro"}, "invalid_claim"),
    ],
)
def test_bad_claims_are_refused(
    agent: Agent, secret: str, caplog: Any, overrides: dict[str, Any], reason: str
) -> None:
    claims = _claims(agent, **overrides)
    for name, value in overrides.items():
        if value is None:
            claims.pop(name, None)
    _refused(agent, jwt.encode(claims, secret, algorithm="HS256"), reason, caplog)


def test_a_list_audience_with_the_agent_passes_and_no_audience_is_fine(
    agent: Agent, secret: str
) -> None:
    listed = jwt.encode(_claims(agent, aud=["other", agent.public_id]), secret, algorithm="HS256")
    assert _verify(agent, listed).verified
    claims = _claims(agent)
    claims.pop("aud")
    assert _verify(agent, jwt.encode(claims, secret, algorithm="HS256")).verified


def test_small_clock_skew_is_tolerated(agent: Agent, secret: str) -> None:
    skewed = _claims(agent, iat=int((_now() + timedelta(seconds=10)).timestamp()))
    assert _verify(agent, jwt.encode(skewed, secret, algorithm="HS256")).verified


def test_tampered_payload_wrong_secret_and_garbage_are_refused(
    agent: Agent, secret: str, caplog: Any
) -> None:
    token = jwt.encode(_claims(agent), secret, algorithm="HS256")
    header, _, signature = token.split(".")
    tampered = f"{header}.{_b64(_claims(agent, sub='cust_admin'))}.{signature}"
    _refused(agent, tampered, "bad_signature", caplog)
    _refused(
        agent, jwt.encode(_claims(agent), "0" * 64, algorithm="HS256"), "bad_signature", caplog
    )
    for garbage in ("abc", "a.b.c", "....", "eyJhbGciOiJIUzI1NiJ9", "\u00e9.\u00e9.\u00e9"):
        _refused(agent, garbage, "malformed", caplog)
    _refused(agent, 12345, "malformed", caplog)
    _refused(agent, ["a", "b"], "malformed", caplog)


def test_oversized_tokens_are_refused_before_parsing(
    agent: Agent, secret: str, caplog: Any
) -> None:
    huge = jwt.encode(_claims(agent, name="x" * 9000), secret, algorithm="HS256")
    _refused(agent, huge, "too_large", caplog)


def test_an_agent_without_keys_refuses_every_token(agent: Agent, caplog: Any) -> None:
    token = jwt.encode(_claims(agent), "whatever", algorithm="HS256")
    _refused(agent, token, "no_key", caplog)


def test_another_agents_secret_does_not_verify_here(
    agent: Agent, other_agent: Agent, secret: str, caplog: Any
) -> None:
    theirs = identity_secret_rotate(agent_pk=other_agent.pk, workspace_id=other_agent.workspace_id)
    claims = _claims(agent)
    claims.pop("aud")
    _refused(agent, jwt.encode(claims, theirs[1], algorithm="HS256"), "bad_signature", caplog)


def test_rotation_keeps_the_old_secret_for_its_grace_period_only(
    agent: Agent, secret: str, caplog: Any
) -> None:
    start = _now()
    _, new_secret = identity_secret_rotate(
        agent_pk=agent.pk, workspace_id=agent.workspace_id, grace=timedelta(hours=2)
    )
    with time_machine.travel(start + timedelta(hours=1), tick=False):
        old = jwt.encode(_claims(agent), secret, algorithm="HS256")
        new = jwt.encode(_claims(agent), new_secret, algorithm="HS256")
        assert _verify(agent, old).verified
        assert _verify(agent, new).verified
    with time_machine.travel(start + timedelta(hours=3), tick=False):
        old = jwt.encode(_claims(agent), secret, algorithm="HS256")
        message = _refused(agent, old, "key_retired", caplog)
        assert "grace period" in message
        assert _verify(agent, jwt.encode(_claims(agent), new_secret, algorithm="HS256")).verified


def test_a_retired_key_stops_at_once(agent: Agent, secret: str, caplog: Any) -> None:
    identity_key_retire(IdentityKey.objects.get(agent=agent), workspace_id=agent.workspace_id)
    _refused(agent, jwt.encode(_claims(agent), secret, algorithm="HS256"), "no_key", caplog)


def test_user_hash_right_and_wrong(agent: Agent, secret: str, caplog: Any) -> None:
    good = hmac.new(secret.encode(), b"cust_42", hashlib.sha256).hexdigest()
    identity = identity_verify(
        agent_pk=agent.pk,
        agent_public_id=agent.public_id,
        customer={"id": "cust_42", "name": "Ana"},
        user_hash=good.upper(),  # hex is hex, whatever the case
    )
    assert identity is not None and identity.verified and identity.method == "hmac"
    caplog.clear()
    for customer, user_hash in (
        ({"id": "cust_43"}, good),  # someone else's id with Ana's hash
        ({"id": "cust_42"}, "0" * 64),
        ({"id": "cust_42"}, "short"),
        (None, good),
    ):
        with pytest.raises(InvalidCustomerToken):
            identity_verify(
                agent_pk=agent.pk,
                agent_public_id=agent.public_id,
                customer=customer,
                user_hash=user_hash,
            )


def test_claims_alone_are_an_unverified_identity(agent: Agent) -> None:
    identity = identity_verify(
        agent_pk=agent.pk,
        agent_public_id=agent.public_id,
        customer={"id": 7, "email": "bob@example.com", "customAttributes": {"vip": True}},
    )
    assert identity is not None and not identity.verified and identity.external_id == "7"
    with pytest.raises(InvalidRequest):
        identity_verify(agent_pk=agent.pk, agent_public_id=agent.public_id, customer="bob")


def test_diagnosis_explains_without_raising(agent: Agent, secret: str) -> None:
    expired = jwt.encode(
        _claims(agent, exp=int((_now() - timedelta(hours=1)).timestamp())),
        secret,
        algorithm="HS256",
    )
    identity, problem = token_diagnose(expired, agent_pk=agent.pk, agent_public_id=agent.public_id)
    assert identity is None and problem is not None and problem.reason == "expired"
    good = jwt.encode(_claims(agent), secret, algorithm="HS256")
    identity, problem = token_diagnose(good, agent_pk=agent.pk, agent_public_id=agent.public_id)
    assert problem is None and identity is not None and identity.external_id == "cust_42"


def test_secrets_survive_a_secret_key_rotation_once_resealed(
    agent: Agent, secret: str, settings: Any
) -> None:
    from django.core.management import call_command

    from security.sealing import SealBroken

    old_key = settings.SECRET_KEY
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "n" * 64, [old_key]
    token = jwt.encode(_claims(agent), secret, algorithm="HS256")
    assert _verify(agent, token).verified  # read through the fallback
    call_command("reseal_identity_secrets")
    settings.SECRET_KEY_FALLBACKS = []
    assert _verify(agent, token).verified
    settings.SECRET_KEY = old_key
    with pytest.raises(SealBroken):
        unseal(IdentityKey.objects.get(agent=agent).sealed_secret)


def test_a_secret_sealed_under_a_lost_secret_key_refuses_cleanly(
    agent: Agent, secret: str, settings: Any, caplog: Any
) -> None:
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "m" * 64, []
    _refused(agent, jwt.encode(_claims(agent), secret, algorithm="HS256"), "no_key", caplog)


def test_odd_header_and_claim_types_are_refused_not_crashed(
    agent: Agent, secret: str, caplog: Any
) -> None:
    odd_algs: list[Any] = [["HS256"], {}, None, 1]
    for alg in odd_algs:
        token = f"{_b64({'alg': alg, 'typ': 'JWT'})}.{_b64(_claims(agent))}.c2ln"
        _refused(agent, token, "algorithm_not_allowed", caplog)
    stringly = _claims(agent, exp=str(int((_now() + timedelta(hours=1)).timestamp())))
    _refused(agent, jwt.encode(stringly, secret, algorithm="HS256"), "invalid_claim", caplog)
    message = _refused(
        agent,
        jwt.encode(_claims(agent, iat="yesterday"), secret, algorithm="HS256"),
        "invalid_claim",
        caplog,
    )
    assert not message.endswith("..")


def test_user_hash_attributes_stay_claims(agent: Agent, secret: str) -> None:
    from customers.models import CustomerMemory
    from customers.profiles import customer_resolve

    identity = identity_verify(
        agent_pk=agent.pk,
        agent_public_id=agent.public_id,
        customer={"id": "cust_42", "customAttributes": {"plan": "enterprise"}},
        user_hash=hmac.new(secret.encode(), b"cust_42", hashlib.sha256).hexdigest(),
    )
    assert identity is not None
    customer = customer_resolve(workspace_id=agent.workspace_id, identity=identity)
    assert customer.is_verified
    assert CustomerMemory.objects.get(customer=customer, key="plan").source == "claimed"
