"""The manifest of trusted documents: checked entry by entry when the server starts (a bad
one stops it with a line naming the entry), the mode's default (trusted in production,
any on the development key), and documents named by id kept prepared for good."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

import pytest

from api.auth import ensure_dev_keys
from api.documents import Documents, request_parts
from api.manifest import digest
from api.settings import Settings
from api.startup import StartupError, load_manifest
from schema.build import build_schema
from schema.engine import Engine
from tests.documents import HEAD, LOOKUP, VIEWER, by_id, entry, manifest, write_manifest
from tests.running import free_port, fresh_env, run

SCHEMA = build_schema()


def bad(**changed: Any) -> dict[str, Any]:
    """The manifest of VIEWER and LOOKUP, LOOKUP's entry changed."""
    return manifest(entry(VIEWER), {**entry(LOOKUP), **changed})


LOOKED, BROKEN = digest(LOOKUP), "query Lookup {"
# A query's entry whose body holds a mutation too: a request's operationName would pick it.
TWO = f'{LOOKUP}\nmutation Cancel {{ cancelSelectionOrder(id: "1") {{ id }} }}'
ANONYMOUS = LOOKUP + " { viewer { tier } }"
REFUSED = [
    (b"{not json", "not JSON"),
    (json.dumps({"format": "relay", "version": 1, "operations": []}), "not a manifest"),
    (json.dumps({**manifest(), "version": 2}), "not a manifest"),
    (json.dumps({**manifest(), "version": True}), "not a manifest"),
    (json.dumps({**manifest(), "operations": {}}), "'operations' must be a list"),
    (json.dumps(manifest("Viewer")), "operations[0] must be an object"),
    (json.dumps(bad(body=None)), "operations[1]: 'body' must be a non-empty string"),
    (json.dumps(bad(id=digest(LOOKUP).upper())), "(Lookup): 'id' must be 64 lowercase hex"),
    (json.dumps(bad(id=digest(VIEWER))), f"'id' is not the SHA-256 of its body ({LOOKED})"),
    (json.dumps(bad(type="fragment")), "'type' must be one of query, mutation, subscription"),
    (json.dumps(bad(type="mutation")), "(Lookup): Lookup is a query, not a mutation"),
    (json.dumps(bad(name="Find")), "(Find): the body holds no operation named Find"),
    (json.dumps(bad(body=BROKEN, id=digest(BROKEN))), "(Lookup): the body is not GraphQL"),
    (json.dumps(bad(body=TWO, id=digest(TWO))), "body holds 2 operations (Lookup, Cancel)"),
    (json.dumps(bad(body=ANONYMOUS, id=digest(ANONYMOUS))), "2 operations (Lookup, a query)"),
]  # fmt: skip


@pytest.mark.parametrize(("content", "said"), REFUSED)
def test_a_bad_manifest_is_refused_naming_the_entry_and_why(
    tmp_path: Path, content: str | bytes, said: str
) -> None:
    path = tmp_path / "documents.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(StartupError) as refused:
        load_manifest(Settings(document_manifest=path, documents="trusted"))
    assert str(refused.value).startswith(f"VASTFOLKET_DOCUMENT_MANIFEST={path}: ")
    assert said in str(refused.value)


def test_a_manifest_that_cannot_be_read_is_named(tmp_path: Path) -> None:
    with pytest.raises(StartupError, match="cannot read the file"):
        load_manifest(Settings(document_manifest=tmp_path / "missing.json"))


def test_a_directory_of_manifests_trusts_every_clients_documents(tmp_path: Path) -> None:
    """Several systems, each built with its own documents: one manifest each."""
    (tmp_path / "manifests").mkdir()
    write_manifest(tmp_path / "manifests" / "journal.json", VIEWER)
    write_manifest(tmp_path / "manifests" / "school.json", LOOKUP, VIEWER)
    (tmp_path / "manifests" / "README.txt").write_text("not a manifest: not read")
    settings = Settings(document_manifest=tmp_path / "manifests", documents="trusted")
    documents = Documents(Engine(SCHEMA, Settings().limits()), load_manifest(settings))
    for body in (VIEWER, LOOKUP):
        assert documents.prepare(request_parts(by_id(body))).document is not None
    (tmp_path / "manifests" / "broken.json").write_text(json.dumps(bad(type="mutation")))
    with pytest.raises(StartupError, match=r"broken\.json: operations"):
        load_manifest(settings)
    (tmp_path / "empty").mkdir()
    with pytest.raises(StartupError, match="holds no"):
        load_manifest(Settings(document_manifest=tmp_path / "empty", documents="trusted"))


def test_documents_are_trusted_by_default_only_where_tokens_are_verified_with_set_keys(
    tmp_path: Path,
) -> None:
    keys = tmp_path / "keys.json"
    assert Settings().trusted_documents is False  # the development key
    assert Settings(jwt_public_keys=keys).trusted_documents is True
    assert Settings(jwt_public_keys=keys, documents="any").trusted_documents is False
    assert Settings(documents="trusted").trusted_documents is True


def serve(tmp_path: Path, database_url: str, **settings: str) -> tuple[int, str]:
    """`vastfolket serve` as an operator runs it: its exit status and what it printed."""
    env = fresh_env(tmp_path / "data", DATABASE_URL=database_url, **settings)
    command = [sys.executable, "-m", "api", "serve", "--port", str(free_port())]
    result = run(command, env, timeout=60)
    return result.returncode, (result.stdout + result.stderr).strip()


def test_serve_stops_at_a_manifest_entry_whose_id_is_not_its_body_s(
    tmp_path: Path, database_url: str
) -> None:
    path = tmp_path / "documents.json"
    path.write_text(json.dumps(bad(id=digest(VIEWER))))
    status, output = serve(tmp_path, database_url, VASTFOLKET_DOCUMENT_MANIFEST=str(path))
    assert status == 2 and "Traceback" not in output, output
    assert output == (
        f"Error: VASTFOLKET_DOCUMENT_MANIFEST={path}: operations[1] (Lookup): 'id' is not "
        f"the SHA-256 of its body ({digest(LOOKUP)})"
    )


def test_a_production_server_without_a_manifest_says_what_to_set(
    tmp_path: Path, database_url: str
) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    ensure_dev_keys(settings)  # keys of its own: here the development key's public half
    keys = str(settings.dev_public_keys_path)
    status, output = serve(tmp_path, database_url, VASTFOLKET_JWT_PUBLIC_KEYS=keys)
    assert status == 2 and len(output.splitlines()) == 1, output
    assert "VASTFOLKET_DOCUMENT_MANIFEST" in output and "VASTFOLKET_DOCUMENTS=any" in output


def test_the_app_factory_stops_at_a_bad_manifest_in_a_line(
    tmp_path: Path, database_url: str
) -> None:
    path = tmp_path / "documents.json"
    path.write_text(json.dumps(bad(type="subscription")))
    env = fresh_env(tmp_path / "data", DATABASE_URL=database_url,
                    VASTFOLKET_DOCUMENT_MANIFEST=str(path))  # fmt: skip
    factory = [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory",
               "--port", str(free_port())]  # fmt: skip
    result = run(factory, env, timeout=60)
    output = (result.stdout + result.stderr).strip()
    assert result.returncode != 0 and "Traceback" not in output, output
    (line,) = [line for line in output.splitlines() if str(path) in line]
    assert "CRITICAL" in line and "Lookup is a query, not a subscription" in line


def test_a_document_named_by_id_is_prepared_once_for_good(tmp_path: Path) -> None:
    """However many other texts pass through the engine's cache (two here)."""
    engine = Engine(SCHEMA, Settings().limits(), cache_size=2)
    path = write_manifest(tmp_path / "documents.json", VIEWER, HEAD)
    documents = Documents(engine, load_manifest(Settings(document_manifest=path)))
    first = documents.prepare(request_parts(by_id(VIEWER)))
    assert first.document is not None
    for index in range(5):
        engine.prepare(f"query Other{index} {{ viewer {{ subject }} }}")
    assert engine.prepare(VIEWER) is not first  # the engine's cache let it go
    assert documents.prepare(request_parts(by_id(VIEWER))) is first
    assert documents.prepare(request_parts({"query": VIEWER})) is first  # the manifest's text


def test_a_trusted_document_this_schema_refuses_is_told_at_start_and_answered_with_errors(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A client built for a newer schema: the rest of its documents still run."""
    stale = "query Stale { viewer { nickname } }"
    path = write_manifest(tmp_path / "documents.json", VIEWER, stale)
    engine = Engine(SCHEMA, Settings().limits())
    with caplog.at_level(logging.WARNING, logger="vastfolket.api"):
        documents = Documents(engine, load_manifest(Settings(document_manifest=path)))
    (warning,) = [r.getMessage() for r in caplog.records if "Stale" in r.getMessage()]
    assert digest(stale) in warning and "nickname" in warning
    refused = documents.prepare(request_parts(by_id(stale)))
    assert refused.document is None
    assert refused.errors[0].extensions["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert documents.prepare(request_parts(by_id(VIEWER))).document is not None
