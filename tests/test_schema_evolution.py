"""The published schema breaks no client of the released one, unless declared.

The rule (``schema.evolution``): something may go only after a release that deprecated
it with a reason; anything else graphql-core calls breaking is refused. The small
schemas below are declared in Strawberry, as the API's are, so ``deprecation_reason=``
is shown to be what the check honours.
"""

from __future__ import annotations

import enum
import subprocess
import sys
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import pytest
import strawberry
from graphql import FieldDefinitionNode, ObjectTypeDefinitionNode, parse, print_ast

from schema.build import SDL_PATH
from schema.evolution import RELEASE_COMMAND, RELEASED_PATH, compare, report


def test_the_published_schema_breaks_no_client_of_the_released_one() -> None:
    comparison = compare(RELEASED_PATH.read_text("utf-8"), SDL_PATH.read_text("utf-8"))
    assert comparison.ok, report(comparison)
    for change in comparison.dangerous:  # told, as the command tells them
        warnings.warn(f"dangerous schema change: {change}", stacklevel=1)


@strawberry.enum(description="A status.")
class Status(enum.Enum):
    ACTIVE = "ACTIVE"
    RETIRED = strawberry.enum_value("RETIRED", deprecation_reason="Nothing is retired now.")


@strawberry.type(description="What only the deprecated field shows.")
class Legacy:
    code: str


@strawberry.type(name="Query")
class Released:
    name: str
    status: Status
    old_name: str = strawberry.field(deprecation_reason="Use `name`.")

    @strawberry.field(deprecation_reason="Use `name`.")
    def legacy(self) -> Legacy:
        return Legacy(code=self.name)

    @strawberry.field
    def lookup(
        self,
        number: str,
        legacy: Annotated[
            str | None, strawberry.argument(deprecation_reason="Numbers are enough.")
        ] = None,
    ) -> str:
        return number


def sdl(query: type) -> str:
    return str(strawberry.Schema(query=query))


RELEASED = sdl(Released)


def said(text: str) -> str:
    """The text as read: its lines are wrapped where a terminal would."""
    return " ".join(text.split())


@strawberry.enum(name="Status", description="A status.")
class ActiveOnly(enum.Enum):
    ACTIVE = "ACTIVE"


@strawberry.type(name="Query")
class Undeprecated:
    """The released schema less what it deprecated."""

    name: str
    status: ActiveOnly

    @strawberry.field
    def lookup(self, number: str) -> str:
        return number


@strawberry.type(name="Query")
class WithNickname(Released):
    nickname: str | None = None


def test_the_small_schema_declares_its_deprecations() -> None:
    assert RELEASED.count("@deprecated(reason:") == 4, RELEASED


def test_an_optional_field_added_passes() -> None:
    comparison = compare(RELEASED, sdl(WithNickname))
    assert comparison.ok and comparison.dangerous == [] and comparison.removed == []


def test_a_field_removed_without_a_deprecation_fails_and_says_what_to_do() -> None:
    published = RELEASED.replace("  name: String!\n", "", 1)
    comparison = compare(RELEASED, published)
    assert comparison.breaking == ["Field Query.name was removed."]
    message = said(report(comparison))
    assert "deprecate it first" in message and 'deprecation_reason="' in message
    assert f"`{RELEASE_COMMAND}`" in message


def test_a_type_changed_fails() -> None:
    comparison = compare(RELEASED, RELEASED.replace("  name: String!", "  name: Int!", 1))
    assert comparison.breaking == ["Field Query.name changed type from String! to Int!."]
    assert "add a new one beside it and deprecate the old" in said(report(comparison))


def test_an_output_made_nullable_is_refused_too() -> None:
    """A client generated from the schema relies on a non-null output being there."""
    comparison = compare(RELEASED, RELEASED.replace("  name: String!", "  name: String", 1))
    assert comparison.breaking == ["Field Query.name changed type from String! to String."]


def test_a_required_argument_added_fails() -> None:
    published = RELEASED.replace("lookup(number: String!,", "lookup(number: String!, why: String!,")
    assert published != RELEASED
    comparison = compare(RELEASED, published)
    assert comparison.breaking == ["A required argument Query.lookup(why:) was added."]


def test_an_optional_argument_added_passes_as_dangerous() -> None:
    published = RELEASED.replace("lookup(number: String!,", "lookup(number: String!, why: String,")
    comparison = compare(RELEASED, published)
    assert comparison.ok
    assert comparison.dangerous == ["An optional argument Query.lookup(why:) was added."]


def test_what_was_deprecated_in_the_release_may_go() -> None:
    """The field, the argument, the enum value; the type only the field showed goes too."""

    comparison = compare(RELEASED, sdl(Undeprecated))
    assert comparison.ok, report(comparison)
    assert sorted(comparison.removed) == [
        "Query.legacy (deprecated: Use `name`.)",
        "Query.lookup(legacy:) (deprecated: Numbers are enough.)",
        "Query.oldName (deprecated: Use `name`.)",
        "Status.RETIRED (deprecated: Nothing is retired now.)",
    ]
    assert "Removed after a released deprecation" in said(report(comparison))


def test_a_field_deprecated_only_now_may_not_go_yet() -> None:
    """Deprecation-first means a released deprecation: clients must have seen it."""
    deprecated_now = RELEASED.replace("  name: String!", '  name: String! @deprecated(reason: "x")')
    removed = RELEASED.replace("  name: String!\n", "", 1)
    assert compare(RELEASED, deprecated_now).ok
    assert compare(deprecated_now, removed).ok
    assert not compare(RELEASED, removed).ok


def test_a_deprecation_without_a_reason_does_not_declare_a_removal() -> None:
    bare = RELEASED.replace("  name: String!", "  name: String! @deprecated", 1)
    comparison = compare(bare, RELEASED.replace("  name: String!\n", "", 1))
    assert comparison.breaking == ["Field Query.name was removed."]


def without_field(sdl_text: str, type_name: str, field_name: str) -> str:
    """The schema text less one field of one type (its description goes with it)."""
    document = parse(sdl_text)
    definitions = []
    for definition in document.definitions:
        if isinstance(definition, ObjectTypeDefinitionNode) and definition.name.value == type_name:
            fields: tuple[FieldDefinitionNode, ...] = definition.fields or ()
            kept = tuple(node for node in fields if node.name.value != field_name)
            assert len(kept) == len(fields) - 1, f"{type_name}.{field_name} is not there"
            definition = replace(definition, fields=kept)
        definitions.append(definition)
    return print_ast(replace(document, definitions=tuple(definitions)))


def vastfolket_schema(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api", "schema", *args],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_the_command_passes_on_the_committed_schemas() -> None:
    result = vastfolket_schema("check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No breaking change" in result.stdout


def test_the_command_fails_on_a_field_of_the_api_removed(tmp_path: Path) -> None:
    published = tmp_path / "schema.graphql"
    published.write_text(without_field(SDL_PATH.read_text("utf-8"), "Person", "lastName"))
    result = vastfolket_schema("check", "--published", str(published))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Field Person.lastName was removed." in result.stderr
    assert RELEASE_COMMAND in said(result.stderr)


def test_release_makes_the_published_schema_the_one_checked_against(tmp_path: Path) -> None:
    released = tmp_path / "released.graphql"
    released.write_text(SDL_PATH.read_text("utf-8"))
    published = tmp_path / "schema.graphql"
    published.write_text(without_field(SDL_PATH.read_text("utf-8"), "Person", "lastName"))
    paths = ("--released", str(released), "--published", str(published))
    done = vastfolket_schema("release", *paths)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Field Person.lastName was removed." in done.stderr  # what it accepted
    assert released.read_text() == published.read_text()
    assert vastfolket_schema("check", *paths).returncode == 0


@pytest.mark.parametrize("text", ["type Query {", None])
def test_an_unreadable_schema_is_one_line_and_exit_2(tmp_path: Path, text: str | None) -> None:
    published = tmp_path / "schema.graphql"
    if text is not None:
        published.write_text(text)
    result = vastfolket_schema("check", "--published", str(published))
    assert result.returncode == 2
    assert result.stderr.startswith("Error: ") and "Traceback" not in result.stderr
    assert str(published) in result.stderr
