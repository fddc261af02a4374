"""Relay-style connections of persons, with opaque cursors."""

from __future__ import annotations

import strawberry

from resolvers.register.rows import Page, PersonRow
from schema.cursors import encode_cursor
from schema.errors import BadUserInput
from schema.register.person import Person


@strawberry.type(description="Sidinformation — where this page lies in the whole result.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="True if more results follow.")
    end_cursor: str | None = strawberry.field(
        description="Cursor of the last edge; pass it as `after` to get the next page."
    )


@strawberry.type(description="One person in a result list, with its cursor.")
class PersonEdge:
    cursor: str = strawberry.field(description="Opaque position of this edge.")
    node: PersonRow = strawberry.field(graphql_type=Person, description="The person.")


@strawberry.type(description="En sida personer — one page of persons.")
class PersonConnection:
    edges: list[PersonEdge] = strawberry.field(description="The persons on this page, in order.")
    page_info: PageInfo = strawberry.field(description="Paging information.")

    @classmethod
    def from_page(cls, page: Page, kind: str) -> PersonConnection:
        edges = [
            PersonEdge(cursor=encode_cursor(kind, position), node=row)
            for row, position in zip(page.rows, page.cursors, strict=True)
        ]
        end = edges[-1].cursor if edges else None
        return cls(
            edges=edges, page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=end)
        )


def check_page_size(first: int, maximum: int) -> None:
    if not 1 <= first <= maximum:
        raise BadUserInput(f"`first` must be between 1 and {maximum}", argument="first")
