"""The typed client (clients/python) is generated, not written: the committed package and
persisted-documents manifest are what `generate.py` writes from the schema and the
operations now, the operations cover every root field, the manifest's ids are the
sha256 of the texts the client sends, and the package's types hold under mypy."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from graphql import OperationDefinitionNode, build_schema, parse, validate

ROOT = Path(__file__).resolve().parent.parent
CLIENT = ROOT / "clients" / "python"
SCHEMA = ROOT / "schema" / "schema.graphql"
ENVIRONMENT = CLIENT / ".codegen"  # ariadne-codegen's, installed once by generate.py


def generate(*arguments: str, where: Path = CLIENT) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(where / "generate.py"), *arguments]
    command += ["--environment", str(ENVIRONMENT)]
    return subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)


def operations() -> list[OperationDefinitionNode]:
    documents = sorted((CLIENT / "operations").glob("*.graphql"))
    text = "\n".join(path.read_text(encoding="utf-8") for path in documents)
    return [d for d in parse(text).definitions if isinstance(d, OperationDefinitionNode)]


def test_the_committed_client_is_what_generation_writes() -> None:
    checked = generate("--check")
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_a_stale_client_fails_the_check_naming_the_stale_files(tmp_path: Path) -> None:
    copy = tmp_path / "clients" / "python"
    ignore = shutil.ignore_patterns(".codegen", "__pycache__", "*.egg-info")
    shutil.copytree(CLIENT, copy, ignore=ignore)
    (tmp_path / "schema").mkdir()
    shutil.copy2(SCHEMA, tmp_path / "schema" / "schema.graphql")
    with (copy / "operations" / "register.graphql").open("a", encoding="utf-8") as added:
        added.write("\nquery GetViewerTier {\n  viewer {\n    tier\n  }\n}\n")
    with (copy / "vastfolket_client" / "enums.py").open("a", encoding="utf-8") as edited:
        edited.write("# edited by hand\n")
    checked = generate("--check", where=copy)
    assert checked.returncode == 1, checked.stdout + checked.stderr
    named = {line.strip() for line in checked.stderr.splitlines()[1:]}
    assert named == {
        "clients/python/persisted-documents.json",
        "clients/python/vastfolket_client/__init__.py",
        "clients/python/vastfolket_client/client.py",
        "clients/python/vastfolket_client/enums.py",
        "clients/python/vastfolket_client/viewer_tier.py",
    }, checked.stderr


def test_the_operations_cover_every_root_field_and_fit_the_schema() -> None:
    schema = build_schema(SCHEMA.read_text(encoding="utf-8"))
    roots = {
        "query": schema.query_type,
        "mutation": schema.mutation_type,
        "subscription": schema.subscription_type,
    }
    published = {(kind, name) for kind, root in roots.items() if root for name in root.fields}
    covered = {
        (operation.operation.value, selection.name.value)
        for operation in operations()
        for selection in operation.selection_set.selections
        if hasattr(selection, "name")
    }
    assert covered == published
    documents = sorted((CLIENT / "operations").glob("*.graphql"))
    text = "\n".join(path.read_text(encoding="utf-8") for path in documents)
    assert validate(schema, parse(text)) == []


def test_the_manifest_holds_each_operation_once_under_the_sha256_of_its_text() -> None:
    manifest = json.loads((CLIENT / "persisted-documents.json").read_text(encoding="utf-8"))
    assert (manifest["format"], manifest["version"]) == ("apollo-persisted-query-manifest", 1)
    listed = manifest["operations"]
    for entry in listed:
        assert entry["id"] == hashlib.sha256(entry["body"].encode("utf-8")).hexdigest()
        [operation] = [
            d for d in parse(entry["body"]).definitions if isinstance(d, OperationDefinitionNode)
        ]
        assert operation.name is not None and operation.name.value == entry["name"]
        assert operation.operation.value == entry["type"]
    written = sorted((o.name.value, o.operation.value) for o in operations() if o.name)
    assert sorted((entry["name"], entry["type"]) for entry in listed) == written


USE = """
from vastfolket_client import Client, Person, ProtectedPerson

async def last_name(client: Client) -> str | None:
    found = await client.person(personnummer="19121212-1212")
    if isinstance(found, Person):
        return found.last_name
    if isinstance(found, ProtectedPerson):
        return found.notice
    return None

async def wrong(client: Client) -> str:
    found = await client.person(personnummer="19121212-1212")
    return found.last_name
"""


def test_the_package_s_types_hold_for_a_service_that_uses_it(tmp_path: Path) -> None:
    """mypy accepts a lookup narrowed to its member, and refuses one that is not."""
    (tmp_path / "service.py").write_text(USE, encoding="utf-8")
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "service.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "MYPYPATH": str(CLIENT)},  # the package as its source
    )
    errors = [line for line in checked.stdout.splitlines() if ": error:" in line]
    assert len(errors) >= 1 and all("service.py:14:" in line for line in errors), checked.stdout
    assert all('has no attribute "last_name"' in line for line in errors), checked.stdout
