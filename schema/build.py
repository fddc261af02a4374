"""The executable schema and its published SDL."""

from __future__ import annotations

import logging
from pathlib import Path

import strawberry
from graphql import FieldNode, GraphQLError
from strawberry.schema.config import StrawberryConfig

from resolvers.db import database_unavailable
from schema import errors
from schema.changes.feed import Subscription
from schema.query import Query
from schema.scalars import SCALARS
from schema.selections.mutations import Mutation

logger = logging.getLogger("vastfolket.errors")

SDL_PATH = Path(__file__).with_name("schema.graphql")


def coded_errors(found: list[GraphQLError], request_id: str) -> list[GraphQLError]:
    """Give every error a stable ``extensions.code``; mask the unexpected ones.

    An unexpected exception reaches the caller only as ``INTERNAL_SERVER_ERROR`` with
    the request id; the detail goes to the log under the same id.
    """
    return [_coded(error, request_id) for error in found]


def outage(found: list[GraphQLError] | None) -> BaseException | None:
    """The unreachable database behind one of the errors, if any.

    It fails the whole answer (HTTP 503, ``DATABASE_UNAVAILABLE``), not just its field:
    a partial answer with a null would look like "no such person" to many clients.
    """
    for error in found or ():
        if database_unavailable(error.original_error):
            return error.original_error
    return None


def _of_the_inputs(error: GraphQLError) -> bool:
    """graphql-core's own refusal of what the request brought: before execution, its
    variables (a wrong type, a null for a non-null) or the operation it names; during
    execution, a field's argument values (the error points at the value, not the
    field). A value a resolver returned that its type refuses points at the field: a
    fault of ours."""
    original = error.original_error
    if original is not None and not isinstance(original, GraphQLError):
        return False
    return error.path is None or not any(isinstance(node, FieldNode) for node in error.nodes or ())


def _coded(error: GraphQLError, request_id: str) -> GraphQLError:
    if error.extensions and "code" in error.extensions:
        return error
    original = error.original_error
    if _of_the_inputs(error):
        error.extensions = {**(error.extensions or {}), "code": errors.BAD_USER_INPUT}
        return error
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


def build_schema() -> strawberry.Schema:
    """The schema as Strawberry declares it; ``schema.engine`` executes it."""
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        config=StrawberryConfig(scalar_map=SCALARS),
    )


def sdl() -> str:
    return build_schema().as_str() + "\n"
