"""The command line's tokens (``vastfolket token``) and key pairs (``vastfolket keys``).

A production-like setup (``docker/compose.yaml``) names a JWKS file in
``VASTFOLKET_JWT_PUBLIC_KEYS`` and an issuer in ``VASTFOLKET_JWT_ISSUER``. In production
the identity provider holds the private key and issues the tokens; to try such a setup
without one, ``vastfolket keys`` makes a pair and ``vastfolket token --key`` signs tokens
with its private half for the configured issuer.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated

import typer

from api.auth import mint_dev_token, mint_token, write_key_pair
from api.settings import Settings
from api.startup import cli_command
from resolvers.domain.access import Tier

PUBLIC_KEYS_FILE = "public-keys.jwks.json"
PRIVATE_KEY_FILE = "signing-key.pem"


def keys(
    directory: Annotated[
        Path, typer.Argument(help="Where to write the pair (compose mounts docker/keys).")
    ] = Path("docker/keys"),
    replace: Annotated[
        bool, typer.Option(help="Replace a pair already there (its tokens stop working).")
    ] = False,
) -> None:
    """Make a signing key pair: a JWKS for VASTFOLKET_JWT_PUBLIC_KEYS and its private key."""
    public_path, private_path = directory / PUBLIC_KEYS_FILE, directory / PRIVATE_KEY_FILE
    if not replace and (public_path.exists() or private_path.exists()):
        typer.echo(f"Error: {directory} already holds a key pair; use --replace.", err=True)
        raise typer.Exit(1)
    directory.mkdir(parents=True, exist_ok=True)
    kid = write_key_pair(private_path, public_path)
    issuer = shlex.quote(Settings().jwt_issuer)
    typer.echo(
        "\n".join(
            [
                f"Public keys (for VASTFOLKET_JWT_PUBLIC_KEYS): {public_path}",
                f"Private key (keep it out of images and repositories): {private_path}",
                f"Key id: {kid}",
                "Sign a token for the server's issuer (VASTFOLKET_JWT_ISSUER) with:",
                f"  VASTFOLKET_JWT_ISSUER={issuer} {cli_command()} token --key "
                f"{shlex.quote(str(private_path))} --tier BASIC --sub your.name",
            ]
        )
    )


def token(
    tier: Annotated[str, typer.Option(help="Authority tier: BASIC, EXTENDED or RELATIONS.")],
    sub: Annotated[str, typer.Option(help="The user id the token is for.")],
    org: Annotated[str | None, typer.Option(help="Organisation, e.g. municipality 1480.")] = None,
    role: Annotated[list[str] | None, typer.Option(help="A role; repeat for more.")] = None,
    client: Annotated[str | None, typer.Option(help="Client system the caller uses.")] = None,
    hours: Annotated[float, typer.Option(help="Validity in hours.")] = 8.0,
    key: Annotated[
        Path | None,
        typer.Option(help="Sign with this private key (`vastfolket keys`), not the dev key."),
    ] = None,
) -> None:
    """Print a token the configured server accepts (the development key's by default)."""
    if tier.upper() not in Tier.__members__:
        raise typer.BadParameter("choose BASIC, EXTENDED or RELATIONS", param_hint="--tier")
    settings = Settings()
    typer.echo(
        signed_token(
            settings,
            key,
            subject=sub,
            tier=Tier[tier.upper()],
            organisation=org,
            roles=role or [],
            client=client,
            ttl_seconds=int(hours * 3600),
        )
    )


def signed_token(settings: Settings, key: Path | None, **claims: object) -> str:
    """A token the configured server accepts: signed with ``key``, else the dev key."""
    if key is None:
        if settings.jwt_public_keys is not None:
            raise typer.BadParameter(
                f"this server verifies tokens with VASTFOLKET_JWT_PUBLIC_KEYS="
                f"{settings.jwt_public_keys}, not the development key; sign with its private "
                "key",
                param_hint="--key",
            )
        return mint_dev_token(settings, **claims)
    try:
        return mint_token(settings, key, **claims)  # type: ignore[arg-type]
    except (OSError, ValueError) as error:
        raise typer.BadParameter(str(error), param_hint="--key") from None
