"""The executable schema and its published SDL."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import ParserCache, SchemaExtension, ValidationCache

from schema import errors
from schema.query import Query

logger = logging.getLogger("vastfolket.errors")

SDL_PATH = Path(__file__).with_name("schema.graphql")


def _code_for(error: GraphQLError) -> str | None:
    """The code of an error GraphQL itself raised (parsing, validation, variables)."""
    if error.message.startswith("Syntax Error"):
        return errors.GRAPHQL_PARSE_FAILED
    if error.message.startswith("Variable "):
        return errors.BAD_USER_INPUT
    return errors.GRAPHQL_VALIDATION_FAILED


class ErrorCodes(SchemaExtension):
    """Give every error a stable ``extensions.code``; mask the unexpected ones.

    An unexpected exception reaches the caller only as ``INTERNAL_SERVER_ERROR`` with
    the request id; the detail goes to the log under the same id.
    """

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is None or not result.errors:
            return
        result.errors = [self._coded(error) for error in result.errors]

    def _coded(self, error: GraphQLError) -> GraphQLError:
        if error.extensions and "code" in error.extensions:
            return error
        original = error.original_error
        if original is None or isinstance(original, GraphQLError):
            error.extensions = {**(error.extensions or {}), "code": _code_for(error)}
            return error
        request_id = getattr(self.execution_context.context, "request_id", "-")
        logger.error(
            "unexpected error at %s (request %s)",
            error.path,
            request_id,
            exc_info=original,
            extra={"request_id": request_id},
        )
        return GraphQLError(
            f"Internal server error (request id {request_id}).",
            nodes=error.nodes,
            path=error.path,
            extensions={"code": errors.INTERNAL_SERVER_ERROR, "requestId": request_id},
        )


class VastfolketSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """Errors are coded and the unexpected ones logged by ``ErrorCodes``."""


def build_schema() -> strawberry.Schema:
    return VastfolketSchema(
        query=Query,
        extensions=[
            lambda: ParserCache(maxsize=256),
            lambda: ValidationCache(maxsize=256),
            ErrorCodes,
        ],
    )


def sdl() -> str:
    return build_schema().as_str() + "\n"
