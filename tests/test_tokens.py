"""Attacks on bearer tokens: each is answered 401 UNAUTHENTICATED, and none is remembered.

Tokens are built by hand (header, payload, signature) so that each test can break
exactly one thing; the signing key is the development key the test server trusts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from api.auth import DEV_KEY_ID
from api.settings import Settings
from resolvers.domain.access import Tier
from tests.conftest import Api

VIEWER = {"query": "{ viewer { subject tier } }"}
HEADER = {"alg": "ES256", "typ": "JWT", "kid": DEV_KEY_ID}


def segment(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def encode(value: Any) -> str:
    return segment(json.dumps(value).encode())


def claims(settings: Settings, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    valid = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": "mallory",
        "tier": "BASIC",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
    }
    valid.update(changes)
    return {name: value for name, value in valid.items() if value is not None}


def private_key(settings: Settings) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(settings.dev_private_key_path.read_bytes(), None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key


def signed(settings: Settings, payload: Any, header: dict[str, Any] | None = None) -> str:
    """A token signed (ES256) with the key the server trusts."""
    signing_input = f"{encode(header or HEADER)}.{encode(payload)}".encode()
    signature = jwt.algorithms.ECAlgorithm(hashes.SHA256).sign(
        signing_input,
        private_key(settings),  # type: ignore[arg-type]
    )
    return f"{signing_input.decode()}.{segment(signature)}"


def public_pem(settings: Settings) -> bytes:
    return (
        private_key(settings)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


async def answer(client: httpx.AsyncClient, token: str) -> httpx.Response:
    header = f"Bearer {token}".encode()  # bytes: a hostile header need not be ASCII
    return await client.post("/graphql", json=VIEWER, headers={"Authorization": header})


def assert_refused(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "UNAUTHENTICATED"}
    assert "data" not in response.json()


async def test_a_well_formed_token_is_accepted(api: Api, settings: Settings) -> None:
    """The hand-built tokens below differ from this one in one thing each."""
    response = await answer(api.client, signed(settings, claims(settings)))
    assert response.json() == {"data": {"viewer": {"subject": "mallory", "tier": "BASIC"}}}


async def test_identifiers_in_any_script_are_kept_as_written(api: Api, settings: Settings) -> None:
    token = signed(settings, claims(settings, sub="åsa.öberg", org="Mölndals stad"))
    response = await answer(api.client, token)
    assert response.json() == {"data": {"viewer": {"subject": "åsa.öberg", "tier": "BASIC"}}}


def _unsigned(settings: Settings, algorithm: str) -> str:
    header = {"alg": algorithm, "typ": "JWT"}
    return f"{encode(header)}.{encode(claims(settings, tier='RELATIONS'))}."


def _hmac_with(secret: Callable[[Settings], bytes]) -> Callable[[Settings], str]:
    def token(settings: Settings) -> str:
        header = {"alg": "HS256", "typ": "JWT", "kid": DEV_KEY_ID}
        signing_input = f"{encode(header)}.{encode(claims(settings, tier='RELATIONS'))}"
        mac = hmac.new(secret(settings), signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{segment(mac)}"

    return token


def _other_key(settings: Settings) -> str:
    stranger = ec.generate_private_key(ec.SECP256R1())
    return jwt.encode(claims(settings), stranger, algorithm="ES256", headers={"kid": DEV_KEY_ID})


ATTACKS: dict[str, Callable[[Settings], str]] = {
    "alg none": lambda s: _unsigned(s, "none"),
    "alg None": lambda s: _unsigned(s, "None"),
    "alg NONE with a signature": lambda s: _unsigned(s, "NONE") + "c2lnbmF0dXJl",
    "HS256 with the public key (PEM) as secret": _hmac_with(public_pem),
    "HS256 with the public key (JWKS) as secret": _hmac_with(
        lambda s: s.dev_public_keys_path.read_bytes()
    ),
    "RS256 named for the EC key": lambda s: signed(s, claims(s), {**HEADER, "alg": "RS256"}),
    "EdDSA named for the EC key": lambda s: signed(s, claims(s), {**HEADER, "alg": "EdDSA"}),
    "signed by another key": _other_key,
    "expired": lambda s: signed(s, claims(s, exp=int(time.time()) - 120)),
    "expiry as a string": lambda s: signed(s, claims(s, exp=str(int(time.time()) + 600))),
    "no expiry": lambda s: signed(s, claims(s, exp=None)),
    "expiry past any float": lambda s: signed(s, claims(s, exp=10**400)),
    "expiry past the year 9999": lambda s: signed(s, claims(s, exp=10**30)),
    "not yet valid": lambda s: signed(s, claims(s, nbf=int(time.time()) + 600)),
    "wrong issuer": lambda s: signed(s, claims(s, iss="https://login.example.com")),
    "no issuer": lambda s: signed(s, claims(s, iss=None)),
    "wrong audience": lambda s: signed(s, claims(s, aud="some-other-api")),
    "no audience": lambda s: signed(s, claims(s, aud=None)),
    "no subject": lambda s: signed(s, claims(s, sub=None)),
    "unknown key id": lambda s: signed(s, claims(s), {**HEADER, "kid": "retired-2019"}),
    "key id not a string": lambda s: signed(s, claims(s), {**HEADER, "kid": [DEV_KEY_ID]}),
    "missing tier": lambda s: signed(s, claims(s, tier=None)),
    "unknown tier": lambda s: signed(s, claims(s, tier="ADMIN")),
    "tier in lower case": lambda s: signed(s, claims(s, tier="relations")),
    "tier as a list": lambda s: signed(s, claims(s, tier=["RELATIONS"])),
    "roles not a list": lambda s: signed(s, claims(s, roles="selections")),
    "organisation an object": lambda s: signed(s, claims(s, org={"id": 1480})),
    "subject with a NUL": lambda s: signed(s, claims(s, sub="anna\u0000admin")),
    "client with a line break": lambda s: signed(s, claims(s, client_id="Raindance\nx")),
    "empty subject": lambda s: signed(s, claims(s, sub="")),
    "blank subject": lambda s: signed(s, claims(s, sub="  ")),
    "subject of a filler letter": lambda s: signed(s, claims(s, sub="\u3164")),
    "subject of a combining mark": lambda s: signed(s, claims(s, sub="\u0301")),
    "subject of no-break spaces": lambda s: signed(s, claims(s, sub="\u00a0\u00a0")),
    "subject of 201 characters": lambda s: signed(s, claims(s, sub="a" * 201)),
    "subject with a bidi override": lambda s: signed(s, claims(s, sub="anna\u202enimda")),
    "subject with a bidi isolate": lambda s: signed(s, claims(s, sub="anna\u2066x\u2069")),
    "subject with a C1 control": lambda s: signed(s, claims(s, sub="anna\u0085admin")),
    "subject with a zero-width space": lambda s: signed(s, claims(s, sub="an\u200bna")),
    "organisation with a line separator": lambda s: signed(s, claims(s, org="1480\u2028x")),
    "organisation with a paragraph separator": lambda s: signed(s, claims(s, org="1480\u2029")),
    "empty organisation": lambda s: signed(s, claims(s, org="")),
    "client with a byte order mark": lambda s: signed(s, claims(s, client_id="\ufeffRaindance")),
    "role with a zero-width joiner": lambda s: signed(s, claims(s, roles=["au\u200ddit"])),
    "payload not an object": lambda s: signed(s, ["BASIC"]),
    "header not an object": lambda s: f"{encode([1])}.{encode(claims(s))}.c2ln",
    "two segments": lambda s: ".".join(signed(s, claims(s)).split(".")[:2]),
    "four segments": lambda s: signed(s, claims(s)) + ".e30",
    "not base64": lambda s: "ä.ö.å",
    "critical header extension": lambda s: signed(s, claims(s), {**HEADER, "crit": ["exp"]}),
}


@pytest.mark.parametrize("attack", ATTACKS)
async def test_an_attack_on_the_token_is_refused(api: Api, settings: Settings, attack: str) -> None:
    assert_refused(await answer(api.client, ATTACKS[attack](settings)))


def _tamper_payload(token: str, **changes: Any) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return f"{header}.{encode({**claims, **changes})}.{signature}"


async def test_a_tampered_token_is_refused_even_after_the_original_was_accepted(
    api: Api, settings: Settings
) -> None:
    """Verified tokens are remembered; a tampered copy must not find the original's entry."""
    original = api.token(Tier.BASIC)
    assert (await answer(api.client, original)).status_code == 200
    raised = _tamper_payload(original, tier="RELATIONS")
    assert_refused(await answer(api.client, raised))
    header, payload, signature = original.split(".")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    assert_refused(await answer(api.client, f"{header}.{payload}.{flipped}"))
    assert_refused(await answer(api.client, original + "x"))
    # The original is still good, and still only BASIC.
    response = await answer(api.client, original)
    assert response.json()["data"]["viewer"]["tier"] == "BASIC"


async def test_a_refused_token_stays_refused(api: Api, settings: Settings) -> None:
    """A refusal is not remembered as a success: the same bad token is refused every time."""
    token = signed(settings, claims(settings, tier="ADMIN"))
    for _ in range(3):
        assert_refused(await answer(api.client, token))


async def test_refusals_say_why_without_revealing_keys(api: Api, settings: Settings) -> None:
    expired = await answer(api.client, signed(settings, claims(settings, exp=1)))
    assert "expired" in expired.json()["errors"][0]["message"]
    wrong_key = await answer(api.client, _other_key(settings))
    message = wrong_key.json()["errors"][0]["message"]
    assert "Signature verification failed" in message
    assert "BEGIN" not in message and '"x"' not in message


async def test_introspection_needs_a_token(api: Api) -> None:
    introspection = {"query": "{ __schema { queryType { name } types { name } } }"}
    refused = await api.client.post("/graphql", json=introspection)
    assert_refused(refused)
    assert_refused(await api.client.get("/graphql", params=introspection))
    allowed = await api.client.post(
        "/graphql",
        json=introspection,
        headers={"Authorization": f"Bearer {api.token(Tier.BASIC)}"},
    )
    assert allowed.status_code == 200
    schema = allowed.json()["data"]["__schema"]
    assert schema["queryType"] == {"name": "Query"}
    assert {"name": "Person"} in schema["types"]
