"""What is checked before the API starts, and how to run the command line as printed.

A server that cannot work should say why in one line before it says anything else: a
taken port, or a setting that names a file the process cannot read. Commands the API
prints (the banner, GraphiQL's page) must run when pasted into a shell as they are.
"""

from __future__ import annotations

import errno
import os
import shlex
import shutil
import socket
import sys
from pathlib import Path

import jwt

from api import manifest
from api.auth import PublicKeys
from api.database import embedded
from api.settings import Settings
from resolvers.development import DEMO_DATA, DevelopmentOnly, development_only

# Settings that name a file read at start-up, by their environment variable.
FILE_SETTINGS = (
    "jwt_public_keys",
    "skatteverket_client_cert",
    "skatteverket_client_key",
    "skatteverket_ca_bundle",
)


class StartupError(Exception):
    """The API cannot start as configured; the message says why and what to do."""


def cli_command() -> str:
    """The ``vastfolket`` command as it can be typed here, the way this process was run.

    The script lives in the virtual environment's ``bin``, which is on PATH only when the
    environment is activated: the bare name is printed only when PATH finds this script.
    """
    argv0 = Path(sys.argv[0])
    script = argv0 if argv0.name == "vastfolket" else Path(sys.executable).parent / "vastfolket"
    if not script.is_file():
        return f"{_typed(Path(sys.executable))} -m api"
    found = shutil.which("vastfolket")
    if found is not None and Path(found).resolve() == script.resolve():
        return "vastfolket"
    return _typed(script)


def _typed(path: Path) -> str:
    """``path`` as a shell reads it: relative when below the working directory."""
    absolute = path if path.is_absolute() else Path.cwd() / path
    try:
        relative = absolute.relative_to(Path.cwd())
    except ValueError:
        return shlex.quote(str(absolute))
    shown = str(relative) if relative.parent != Path() else f"./{relative}"
    return shlex.quote(shown)


def check_port(host: str, port: int) -> None:
    """Refuse a port the server could not listen on (bound as uvicorn binds it)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno != errno.EADDRINUSE:
                raise StartupError(f"Cannot listen on {host}:{port}: {error.strerror}.") from None
            raise StartupError(
                f"Port {port} on {host} is already in use; choose another with --port, "
                f"e.g. {cli_command()} serve --port {_free_port(host, port)}"
            ) from None


def _free_port(host: str, taken: int) -> int:
    """A free port near ``taken``, skipping ``taken + 1`` (serve's simulator wants it)."""
    for port in range(taken + 2, min(taken + 100, 65535)):
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            try:
                probe.bind((host, port))
            except OSError:
                continue
            return port
    return taken + 2


def check_files(settings: Settings) -> None:
    """Refuse settings naming files that cannot be read, naming the setting and the file."""
    for name in FILE_SETTINGS:
        path = getattr(settings, name)
        if path is None:
            continue
        try:
            path.open("rb").close()
        except OSError as error:
            keys = name == "jwt_public_keys"
            hint = f"; `{cli_command()} keys` makes a key pair (docs/operations.md)" if keys else ""
            raise StartupError(
                f"VASTFOLKET_{name.upper()}={path}: cannot read the file ({error.strerror}){hint}"
            ) from None


def load_public_keys(settings: Settings) -> PublicKeys:
    """The keys tokens are verified with, from a file checked to hold some."""
    check_files(settings)
    path = settings.public_keys_path
    where = f"VASTFOLKET_JWT_PUBLIC_KEYS={path}" if settings.jwt_public_keys else str(path)
    try:
        return PublicKeys.load(path)
    except OSError as error:
        raise StartupError(f"{where}: cannot read the file ({error.strerror})") from None
    except (ValueError, UnicodeDecodeError, jwt.PyJWTError):
        raise StartupError(
            f"{where}: neither a PEM public key nor a JWKS with a usable key"
        ) from None


def load_manifest(settings: Settings) -> list[manifest.Entry]:
    """The trusted documents, from the manifest (or every manifest of a directory)
    checked entry by entry; none when no manifest is named, which only the 'any' mode
    allows."""
    path = settings.document_manifest
    if path is None:
        if not settings.trusted_documents:
            return []
        why = (
            "VASTFOLKET_DOCUMENTS=trusted"
            if settings.documents
            else "Trusted documents (the default where tokens are verified with "
            "VASTFOLKET_JWT_PUBLIC_KEYS)"
        )
        raise StartupError(
            f"{why} need VASTFOLKET_DOCUMENT_MANIFEST: name the manifest of the clients' "
            "documents, or set VASTFOLKET_DOCUMENTS=any to run any document"
        )
    # A directory: the manifests of several clients' builds, each a file of its own.
    files = sorted(path.glob("*.json")) if path.is_dir() else [path]
    if not files:
        raise StartupError(f"VASTFOLKET_DOCUMENT_MANIFEST={path}: the directory holds no *.json")
    entries: list[manifest.Entry] = []
    for file in files:
        try:
            entries += manifest.load(file)
        except manifest.ManifestError as error:
            raise StartupError(f"VASTFOLKET_DOCUMENT_MANIFEST={file}: {error}") from None
    return entries


def check_data_dir(settings: Settings) -> None:
    """The embedded server (no DATABASE_URL) and a new development key (no
    VASTFOLKET_JWT_PUBLIC_KEYS) are written to the data directory: it must be writable."""
    users = []
    if not settings.database_url:
        users.append("the embedded server (DATABASE_URL is not set)")
    dev_keys = (settings.dev_private_key_path, settings.dev_public_keys_path)
    if settings.jwt_public_keys is None and not all(path.exists() for path in dev_keys):
        users.append("the development key (VASTFOLKET_JWT_PUBLIC_KEYS is not set)")
    existing = settings.data_dir.absolute()
    while not existing.exists():
        existing = existing.parent
    if users and not os.access(existing, os.W_OK | os.X_OK):
        raise StartupError(
            f"VASTFOLKET_DATA_DIR={settings.data_dir} cannot be written, and "
            f"{' and '.join(users)} needs it there"
        )


def check_database(settings: Settings) -> None:
    """A replica is read only beside the primary it replicates, never the embedded one."""
    if settings.database_replica_url and not settings.database_url:
        raise StartupError(
            "VASTFOLKET_DATABASE_REPLICA_URL is set but DATABASE_URL is not: name the "
            "primary the replica follows"
        )


def check_development_parts(settings: Settings) -> None:
    """What ``serve`` would use that only a development install has (the image has none):
    the embedded server without DATABASE_URL, Faker for demo persons."""
    try:
        if not settings.database_url:
            embedded()
        if settings.demo_register_size:
            with development_only(DEMO_DATA):
                from resolvers.dev.demo import people
            people.faker()
    except DevelopmentOnly as error:
        raise StartupError(str(error)) from None


def check_serve(settings: Settings, host: str, port: int) -> None:
    """Everything ``serve`` can check before it prints that it is ready."""
    check_port(host, port)
    check_database(settings)
    check_development_parts(settings)
    check_data_dir(settings)
    if settings.jwt_public_keys is None:  # the development key is made when missing
        check_files(settings)
    else:
        load_public_keys(settings)
    load_manifest(settings)
