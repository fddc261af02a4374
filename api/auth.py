"""JWT bearer tokens: verification for every request, and development tokens.

Tokens carry ``sub`` (user id), ``tier`` (BASIC, EXTENDED or RELATIONS), ``roles``
(list), ``org`` (organisation) and optionally ``client_id`` (the client system). They
must be signed by one of the configured public keys with an allow-listed asymmetric
algorithm, and carry the configured ``iss`` and ``aud``, ``exp`` and ``sub``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

from api.settings import Settings
from resolvers.domain.access import Tier, Viewer
from resolvers.domain.text import blank, unprintable

DEV_KEY_ID = "vastfolket-dev"
MAX_IDENTIFIER = 200  # characters of sub, org, client_id and each role

# Which algorithms each kind of key verifies: a token naming another algorithm is refused
# before its signature is looked at (no algorithm confusion, no key-type errors).
KEY_ALGORITHMS: tuple[tuple[type, frozenset[str]], ...] = (
    (ec.EllipticCurvePublicKey, frozenset({"ES256", "ES384", "ES512"})),
    (rsa.RSAPublicKey, frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"})),
    (ed25519.Ed25519PublicKey, frozenset({"EdDSA"})),
    (ed448.Ed448PublicKey, frozenset({"EdDSA"})),
)


LATEST_EXPIRY = 253_402_300_799  # 9999-12-31T23:59:59Z, in seconds since 1970


class InvalidToken(Exception):
    """The token was refused; the message says why, without revealing keys."""


@dataclass(frozen=True)
class PublicKeys:
    """Verification keys by key id; ``None`` is the id of a key read from a PEM file."""

    by_kid: dict[str | None, Any]

    @classmethod
    def load(cls, path: Path) -> PublicKeys:
        data = path.read_bytes()
        if data.lstrip().startswith(b"{"):
            keys = jwt.PyJWKSet.from_json(data.decode("utf-8")).keys
            return cls({key.key_id: key.key for key in keys})
        return cls({None: serialization.load_pem_public_key(data)})

    def for_kid(self, kid: str | None) -> Any:
        if kid is not None and not isinstance(kid, str):
            raise InvalidToken("the token's key id must be a string")
        if None in self.by_kid and len(self.by_kid) == 1:
            return self.by_kid[None]
        if kid is None and len(self.by_kid) == 1:
            return next(iter(self.by_kid.values()))
        if kid not in self.by_kid:
            raise InvalidToken("the token is signed with an unknown key")
        return self.by_kid[kid]


class TokenVerifier:
    """Checks tokens; remembers verified ones until they expire.

    A client sends the same token with every request; checking its signature once
    instead of each time saves the largest single cost of a lookup.
    """

    def __init__(self, settings: Settings, keys: PublicKeys, *, cache_size: int = 4096) -> None:
        self.keys = keys
        self.algorithms = list(settings.jwt_algorithms)
        self.issuer = settings.jwt_issuer
        self.audience = settings.jwt_audience
        self.leeway = settings.jwt_leeway_seconds
        self.cache_size = cache_size
        self._verified: dict[str, tuple[Viewer, float]] = {}

    def verify(self, token: str) -> Viewer:
        return self.verify_until(token)[0]

    def verify_until(self, token: str) -> tuple[Viewer, float]:
        """The viewer, and when the token stops being accepted (``exp`` and the leeway,
        in seconds since 1970): a connection that outlives a request checks it then."""
        known = self._verified.get(token)
        if known is not None and time.time() < known[1]:
            return known
        viewer, expires = self._verify(token)
        if len(self._verified) >= self.cache_size:
            del self._verified[next(iter(self._verified))]
        self._verified[token] = verified = (viewer, expires + self.leeway)
        return verified

    def _verify(self, token: str) -> tuple[Viewer, float]:
        try:
            header = jwt.get_unverified_header(token)
            algorithm = header.get("alg")
            if not isinstance(algorithm, str) or algorithm not in self.algorithms:
                raise InvalidToken("the token's algorithm is not allowed")
            key = self.keys.for_kid(header.get("kid"))
            if not _fits(key, algorithm):
                raise InvalidToken("the token's algorithm does not fit its key")
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("the token has expired") from None
        except jwt.ImmatureSignatureError:
            raise InvalidToken("the token is not yet valid") from None
        except jwt.PyJWTError as error:
            raise InvalidToken(f"the token is invalid: {error}") from None
        expires = claims["exp"]
        if not isinstance(expires, int | float) or isinstance(expires, bool):
            raise InvalidToken("the token's expiry (exp) must be a number")
        if not 0 < expires <= LATEST_EXPIRY:  # past it a float overflows, or means nothing
            raise InvalidToken("the token's expiry (exp) is not a time before the year 10000")
        return _viewer(claims), float(expires)


def _fits(key: Any, algorithm: str) -> bool:
    return any(
        isinstance(key, kind) and algorithm in algorithms for kind, algorithms in KEY_ALGORITHMS
    )


def _viewer(claims: dict[str, Any]) -> Viewer:
    tier = claims.get("tier")
    if not isinstance(tier, str) or tier not in Tier.__members__:
        raise InvalidToken("the token carries no known tier (BASIC, EXTENDED or RELATIONS)")
    roles = claims.get("roles", [])
    if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
        raise InvalidToken("the token's roles must be a list of strings")
    viewer = Viewer(
        subject=str(claims["sub"]),
        tier=Tier[tier],
        organisation=_optional_str(claims.get("org")),
        client=_optional_str(claims.get("client_id")),
        roles=frozenset(roles),
    )
    named = [("sub", viewer.subject), ("org", viewer.organisation), ("client_id", viewer.client)]
    for claim, text in [*named, *(("roles", role) for role in roles)]:
        if text is not None:
            _check_identifier(claim, text)
    return viewer


def _check_identifier(claim: str, text: str) -> None:
    """Identifiers are kept in the access log with every person shown: each must say
    who it is, so none is blank, overlong or holding characters that make it read
    other than it is."""
    if blank(text) or len(text) > MAX_IDENTIFIER:
        raise InvalidToken(f"the token's {claim} must be 1 to {MAX_IDENTIFIER} characters")
    problem = unprintable(text)
    if problem is not None:
        raise InvalidToken(f"the token's {claim} may only hold printable text: {problem}")


def _optional_str(value: Any) -> str | None:
    """An optional identifier claim: a string, or a number some issuers use (``1480``)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidToken("the token's org and client_id must be strings")
    return str(value)


def ensure_dev_keys(settings: Settings) -> None:
    """Create the development key pair in the data directory on first use."""
    if settings.dev_private_key_path.exists() and settings.dev_public_keys_path.exists():
        return
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    write_key_pair(settings.dev_private_key_path, settings.dev_public_keys_path, DEV_KEY_ID)


def write_key_pair(private_path: Path, public_path: Path, kid: str | None = None) -> str:
    """Write a new ES256 key pair: the private key (PEM, owner only) and a JWKS of its
    public half. Returns the key id: ``kid``, or the key's own thumbprint."""
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    descriptor = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    kid = kid or key_id(key)
    public_jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    public_jwk.update({"kid": kid, "alg": "ES256", "use": "sig"})
    public_path.write_text(json.dumps({"keys": [public_jwk]}, indent=2))
    return kid


def key_id(key: ec.EllipticCurvePrivateKey) -> str:
    """The key's RFC 7638 thumbprint: an id a signer and a JWKS agree on without a registry."""
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    members = json.dumps(
        {name: jwk[name] for name in ("crv", "kty", "x", "y")}, separators=(",", ":")
    )
    digest = hashlib.sha256(members.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def mint_dev_token(settings: Settings, **claims: Any) -> str:
    """A token signed with the development key, accepted by a server using it."""
    ensure_dev_keys(settings)
    return mint_token(settings, settings.dev_private_key_path, kid=DEV_KEY_ID, **claims)


def mint_token(
    settings: Settings,
    private_key_path: Path,
    *,
    subject: str,
    tier: Tier,
    organisation: str | None = None,
    roles: list[str] | None = None,
    client: str | None = None,
    ttl_seconds: int = 8 * 3600,
    kid: str | None = None,
) -> str:
    """A token for the configured issuer and audience, signed with an ES256 private key
    (PEM); its ``kid`` is ``kid`` or the key's thumbprint, as `write_key_pair` names it."""
    private_key = _es256_key(private_key_path)
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": subject,
        "tier": tier.name,
        "roles": roles or [],
        "iat": now,
        "nbf": now,
        "exp": now + ttl_seconds,
        "jti": uuid.uuid4().hex,
    }
    if organisation is not None:
        claims["org"] = organisation
    if client is not None:
        claims["client_id"] = client
    headers = {"kid": kid or key_id(private_key)}
    return jwt.encode(claims, private_key, algorithm="ES256", headers=headers)


def _es256_key(path: Path) -> ec.EllipticCurvePrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError):  # not PEM, or a passphrase-protected key
        key = None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ValueError(f"{path} is not an unencrypted ES256 (P-256) private key")
    return key
