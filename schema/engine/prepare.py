"""A query text made ready to run: parsed within the token limits, measured, validated.

Done once per distinct text (the engine caches it): integrators send the same few
operations again and again, and parsing and validating was most of a lookup's CPU.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from graphql import DocumentNode, GraphQLError, GraphQLSchema, parse
from strawberry.schema.schema import validate_document

from schema.context import Limits
from schema.engine import complexity
from schema.engine.complexity import Budget
from schema.errors import GRAPHQL_PARSE_FAILED, GRAPHQL_VALIDATION_FAILED, QueryTooComplex
from schema.selection import varies_by_request


class Prepared(NamedTuple):
    document: DocumentNode | None
    errors: list[GraphQLError]
    # Execution plans may be shared between requests unless a request can change which
    # fields are selected (``schema.selection.varies_by_request``).
    shared_plans: bool = False
    # Limits left to check per request (page sizes from variables, or which of several
    # operations runs); None when the text alone passed them all.
    budget: Budget | None = None

    def within_budget(self, variables: dict[str, Any] | None, operation: str | None) -> Prepared:
        refusals = self.budget.refusals(variables, operation) if self.budget else []
        return Prepared(None, list(refusals)) if refusals else self


def prepare(schema: GraphQLSchema, limits: Limits, text: str) -> Prepared:
    """Parse, measure and validate a query text."""
    try:
        document = parse(text, max_lexical_tokens=limits.max_tokens, max_comments=limits.max_tokens)
    except GraphQLError as error:
        refusal = too_many_tokens(error, limits)
        return Prepared(None, [refusal or with_code([error], GRAPHQL_PARSE_FAILED)[0]])
    # Measured before validation: its cost grows with the square of repeated fields.
    refusals, budget = complexity.check(schema, document, limits)
    if refusals:
        return Prepared(None, list(refusals))
    errors = validate_document(schema, document, complexity.VALIDATION_RULES)
    if errors:
        return Prepared(None, with_code(errors, GRAPHQL_VALIDATION_FAILED))
    return Prepared(document, [], not varies_by_request(document), budget)


def with_code(found: list[GraphQLError], code: str) -> list[GraphQLError]:
    """Errors of a phase that decides their code (parsing, or validation), unless they
    carry one of their own (a limit's refusal met while validating)."""
    for error in found:
        error.extensions = {"code": code, **(error.extensions or {})}
    return found


def too_many_tokens(error: GraphQLError, limits: Limits) -> QueryTooComplex | None:
    """The parser's refusal of an overlong or overnested text, as a limit refusal."""
    if not error.message.endswith("Parsing aborted."):
        return None
    if "nested too deeply" in error.message:
        return QueryTooComplex(
            f"The query is nested too deeply to read (the limit is {limits.max_depth}).",
            limit="depth",
            maximum=limits.max_depth,
            actual=None,
        )
    return QueryTooComplex(
        f"The query is too long: at most {limits.max_tokens} tokens and as many comments are read.",
        limit="tokens",
        maximum=limits.max_tokens,
        actual=None,
    )
