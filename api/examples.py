"""The docs' example operations, read from the docs themselves.

Every ```` ```graphql ```` block of README.md and docs/*.md is an example. An HTML
comment just above one (``<!-- example: {...} -->``, described in docs/queries.md) says
what it runs with — ``variables``, or several ``runs`` — and what it must find; a
``<kind>`` in a value stands for the first demo number of that kind (``vastfolket
demo-data --examples``). ``tests/test_docs_examples.py`` runs the queries against the
demo register; GraphiQL on a development server opens each example in a tab of its own
(``api/graphiql.py``). An install without the docs (a wheel, the image) has none.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphql import GraphQLError, OperationDefinitionNode, OperationType, parse

ROOT = Path(__file__).resolve().parent.parent
FENCE = re.compile(r"^```graphql\n(.*?)^```", re.DOTALL | re.MULTILINE)
MARKER = re.compile(r"<!--\s*example:((?:(?!<!--).)*?)-->\s*\Z", re.DOTALL)  # just above
HEADING = re.compile(r"^#+ (.+)$", re.MULTILINE)
ANY_FENCE = re.compile(r"^```.*?^```", re.DOTALL | re.MULTILINE)  # its lines are no headings
PLACEHOLDER = re.compile(r"<([a-z_]+)>")  # a kind of `vastfolket demo-data --examples`


@dataclass(frozen=True)
class Example:
    where: str  # file:line of the fence
    section: str  # the heading it is under
    query: str
    marker: dict[str, Any]
    operation: OperationType | None  # None: the block does not parse

    @property
    def runs(self) -> list[dict[str, Any]]:
        """What it is run with, first run first (an example without a marker: once)."""
        return list(self.marker.get("runs", [self.marker]))

    @property
    def is_mutation(self) -> bool:
        return self.operation is OperationType.MUTATION

    @property
    def is_query(self) -> bool:
        """A query, or a block that is no operation (so that running it fails)."""
        return self.operation in (OperationType.QUERY, None)


def documents(root: Path = ROOT) -> list[Path]:
    return [path for path in [root / "README.md", *sorted((root / "docs").glob("*.md"))]
            if path.is_file()]  # fmt: skip


def doc_examples(root: Path = ROOT) -> list[Example]:
    found = []
    for path in documents(root):
        text = path.read_text(encoding="utf-8")
        for fence in FENCE.finditer(text):
            marker = MARKER.search(text, 0, fence.start())
            line = text.count("\n", 0, fence.start()) + 1
            headings = HEADING.findall(ANY_FENCE.sub("", text[: fence.start()]))
            found.append(
                Example(
                    where=f"{path.relative_to(root)}:{line}",
                    section=headings[-1] if headings else path.stem,
                    query=fence[1],
                    marker=json.loads(marker[1]) if marker else {},
                    operation=_operation(fence[1]),
                )
            )
    return found


def _operation(text: str) -> OperationType | None:
    """The kind of the block's first operation; None if it has none or does not parse."""
    try:
        definitions = parse(text).definitions
    except GraphQLError:
        return None
    kinds = [d.operation for d in definitions if isinstance(d, OperationDefinitionNode)]
    return kinds[0] if kinds else None


def filled(value: Any, number: Callable[[str], str]) -> Any:
    """``value`` with each ``<kind>`` replaced by ``number(kind)``."""
    if isinstance(value, str):
        return PLACEHOLDER.sub(lambda kind: number(kind[1]), value)
    if isinstance(value, dict):
        return {key: filled(item, number) for key, item in value.items()}
    if isinstance(value, list):
        return [filled(item, number) for item in value]
    return value
