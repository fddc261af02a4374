"""Generates the typed client from the published schema and the operations, in one step:

    python clients/python/generate.py            # writes vastfolket_client/ and the manifest
    python clients/python/generate.py --check    # exit 1, naming the stale files, if either
                                                 # differs from what generation writes now

ariadne-codegen runs with `[tool.ariadne-codegen]` of pyproject.toml (paths relative to
this directory) in a virtual environment of its own, `.codegen/`, installed from
codegen-requirements.txt: it needs graphql-core 3.2, and it formats what it writes with
its own pinned ruff, so the same inputs give the same files on any machine. The package
is written whole into a fresh directory and then replaces the committed one.

The persisted-documents manifest (Apollo's persisted-query-manifest format) is read from
the generated client itself: each operation's text exactly as the client sends it, so
its sha256 is the id the server sees.
"""

from __future__ import annotations

import argparse
import ast
import filecmp
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import venv
from pathlib import Path

HERE = Path(__file__).resolve().parent
PACKAGE = "vastfolket_client"
MANIFEST = "persisted-documents.json"
REQUIREMENTS = HERE / "codegen-requirements.txt"
OPERATION = r"\b(query|mutation|subscription)\s+{name}\b"


def codegen_environment(root: Path) -> Path:
    """The ariadne-codegen command of the environment at ``root``, installed (again)
    when codegen-requirements.txt changed since it was."""
    pins = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    stamp = root / "installed-from"
    if not stamp.exists() or stamp.read_text() != pins:
        shutil.rmtree(root, ignore_errors=True)
        venv.create(root, with_pip=True)
        python = root / "bin" / "python"
        install = [str(python), "-m", "pip", "install", "-q", "-r", str(REQUIREMENTS)]
        installed = subprocess.run(install, capture_output=True, text=True, check=False)
        if installed.returncode != 0:
            sys.exit(f"installing ariadne-codegen failed:\n{installed.stdout}{installed.stderr}")
        stamp.write_text(pins)
    return root / "bin" / "ariadne-codegen"


def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)  # a TOML basic string is a JSON string
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    raise TypeError(f"no TOML for {value!r}")


def codegen_config(target: Path) -> str:
    """The `[tool.ariadne-codegen]` section, writing the package into ``target``."""
    section = tomllib.loads((HERE / "pyproject.toml").read_text())["tool"]["ariadne-codegen"]
    section = {**section, "target_package_path": str(target)}
    scalars = section.pop("scalars", {})
    lines = ["[tool.ariadne-codegen]"]
    lines += [f"{key} = {toml_value(value)}" for key, value in section.items()]
    for name, data in scalars.items():
        lines.append(f"[tool.ariadne-codegen.scalars.{name}]")
        lines += [f"{key} = {toml_value(value)}" for key, value in data.items()]
    return "\n".join(lines) + "\n"


def run_codegen(command: Path, target: Path) -> None:
    config = target / "codegen.toml"
    config.write_text(codegen_config(target))
    env = {**os.environ, "PYTHONPATH": str(HERE)}  # the plugin in codegen_names.py
    ran = subprocess.run(
        [str(command), "--config", str(config)],
        cwd=HERE,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    config.unlink()
    if ran.returncode != 0:
        sys.exit(f"ariadne-codegen failed:\n{ran.stdout}{ran.stderr}")


def sent_operations(client: Path) -> list[tuple[str, str]]:
    """(operation name, text) of each method of the generated client: the string it
    passes through `gql(...)` is the query it sends, unchanged."""
    found = []
    for method in ast.walk(ast.parse(client.read_text(encoding="utf-8"))):
        if not isinstance(method, ast.AsyncFunctionDef | ast.FunctionDef):
            continue
        texts = [
            call.args[0].value
            for call in ast.walk(method)
            if isinstance(call, ast.Call) and getattr(call.func, "id", None) == "gql"
        ]
        names = [
            keyword.value.value
            for keyword in ast.walk(method)
            if isinstance(keyword, ast.keyword) and keyword.arg == "operation_name"
        ]
        if texts and names:
            found.append((str(names[0]), str(texts[0])))
    return sorted(found)


def manifest(client: Path) -> str:
    operations = []
    for name, body in sent_operations(client):
        kind = re.search(OPERATION.format(name=re.escape(name)), body)
        if kind is None:
            sys.exit(f"{client}: no operation {name} in the text it sends")
        digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
        operations.append({"id": digest, "name": name, "type": kind[1], "body": body})
    document = {"format": "apollo-persisted-query-manifest", "version": 1, "operations": operations}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def generate(out: Path, environment: Path) -> None:
    """The package into ``out``/vastfolket_client (replaced whole) and the manifest."""
    command = codegen_environment(environment)
    with tempfile.TemporaryDirectory(prefix="vastfolket-client-") as scratch:
        run_codegen(command, Path(scratch))
        fresh = Path(scratch) / PACKAGE
        (out / MANIFEST).write_text(manifest(fresh / "client.py"), encoding="utf-8")
        shutil.rmtree(out / PACKAGE, ignore_errors=True)
        shutil.copytree(fresh, out / PACKAGE, ignore=shutil.ignore_patterns("__pycache__"))


def files(root: Path) -> set[str]:
    package = root / PACKAGE
    found = {p.relative_to(root).as_posix() for p in package.rglob("*") if p.is_file()}
    found = {name for name in found if "__pycache__" not in name}
    return found | ({MANIFEST} if (root / MANIFEST).exists() else set())


def stale(committed: Path, fresh: Path) -> list[str]:
    """The files of ``committed`` that generation writes otherwise, adds or removes."""
    ours, theirs = files(committed), files(fresh)
    changed = [
        name
        for name in ours & theirs
        if not filecmp.cmp(committed / name, fresh / name, shallow=False)
    ]
    return sorted([*changed, *(ours ^ theirs)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only say what is stale")
    parser.add_argument("--out", type=Path, default=HERE, help="where to write (default: here)")
    parser.add_argument(
        "--environment",
        type=Path,
        default=HERE / ".codegen",
        help="ariadne-codegen's virtual environment",
    )
    options = parser.parse_args()
    if not options.check:
        generate(options.out, options.environment)
        return
    with tempfile.TemporaryDirectory(prefix="vastfolket-client-check-") as fresh:
        generate(Path(fresh), options.environment)
        if outdated := stale(HERE, Path(fresh)):
            names = "\n".join(f"  clients/python/{name}" for name in outdated)
            sys.exit(f"stale, run python clients/python/generate.py:\n{names}")
    print("the committed client is what generation writes")


if __name__ == "__main__":
    main()
