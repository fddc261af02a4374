"""Query limits: selections, depth, aliases and estimated cost, measured once per text.

A query is measured right after parsing, before validation: graphql-core's validation
costs about 50 µs a selection, and it compares fields of one name at one level pairwise
(``OverlappingFieldsCanBeMergedRule``), so a short text that repeats one field a few
hundred times costs it a large part of a second, and a limit checked after it would
come too late. The number of selections bounds the first; a budget of comparisons
(``VALIDATION_RULES``) the second. The measure is linear in the text and cached
with the parsed document: a request whose query text was seen before pays nothing here
unless a page size comes from a variable, and then one coercion of the variables and a
few multiplications (``Budget.refusals``).

The cost estimates how many objects an answer may hold, as public GraphQL APIs commonly
count it: every object (a person, an address, a relation, an edge, a connection) counts
one, scalars nothing, and a list multiplies what is inside it by its length — the page
size ``first`` for a connection's ``edges`` (as graphql-core coerces it for the
resolver: a literal, the variable's value in this request, or a default), and a typical
length for the other lists (``schema.engine.measure.LIST_LENGTHS``). Introspection fields
count no depth and no cost: graphql-core's ``MaxIntrospectionDepthRule`` already bounds
them; their aliases are counted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLSchema,
    OperationDefinitionNode,
    OverlappingFieldsCanBeMergedRule,
    SelectionSetNode,
    ValidationContext,
    VariableDefinitionNode,
    specified_rules,
)
from graphql.execution.values import VariableValues, get_variable_values
from graphql.validation.validate import ValidationAbortedError

from schema.context import Limits
from schema.engine.measure import Cost, Measure, Measurer, evaluate
from schema.errors import QUERY_TOO_COMPLEX, QueryTooComplex

# Comparisons of same-named fields and of fragments at one level that validation may
# make (graphql-core allows 500 000, most of a second). Queries that name each field
# once at a level need none; a few fragments sharing fields, a few hundred.
MAX_COMPARISONS = 10_000


@dataclass(frozen=True, slots=True)
class Operation:
    """An operation's cost, and the variables it is computed from."""

    cost: Cost
    variables: Sequence[VariableDefinitionNode]


@dataclass(frozen=True, slots=True)
class Budget:
    """What is left to check per request: which operation runs, or its page sizes."""

    schema: GraphQLSchema
    operations: Mapping[str | None, Operation]
    refused: Mapping[str | None, list[QueryTooComplex]]
    max_cost: int

    def refusals(
        self, variables: dict[str, Any] | None, operation_name: str | None
    ) -> list[QueryTooComplex]:
        if operation_name is None and len(self.operations) + len(self.refused) == 1:
            operation_name = next(iter({**self.operations, **self.refused}))
        if operation_name in self.refused:
            return self.refused[operation_name]
        operation = self.operations.get(operation_name)
        if operation is None:
            return []  # no such operation: execution says so
        coerced: VariableValues | None = None
        if any(operation.cost):  # a page size from a variable: as the resolver will get it
            values = get_variable_values(self.schema, operation.variables, variables or {})
            if isinstance(values, list):
                return []  # variables execution refuses, with errors that say why
            coerced = values
        total = evaluate(operation.cost, coerced)
        return [] if total <= self.max_cost else [cost_error(total, self.max_cost)]


def cost_error(total: int, maximum: int) -> QueryTooComplex:
    return QueryTooComplex(
        f"The query may return about {total} objects, more than the limit of {maximum}: "
        "ask for smaller pages or fewer nested lists.",
        limit="cost",
        maximum=maximum,
        actual=total,
    )


def check(
    schema: GraphQLSchema, document: DocumentNode, limits: Limits
) -> tuple[list[QueryTooComplex], Budget | None]:
    """Refusals known from the text alone, and what is left to check per request.

    The budget is None when nothing is left: one operation, whose cost depends on no
    variable. ``document`` need not be valid (this runs before validation).
    """
    selections = count_selections(document)
    if selections > limits.max_selections:
        message = (
            f"The query has {selections} selections (fields and fragments), more than the "
            f"limit of {limits.max_selections}: ask for fewer fields, or send it in parts."
        )
        refusal = QueryTooComplex(
            message, limit="selections", maximum=limits.max_selections, actual=selections
        )
        return [refusal], None
    operations, refused = _measure_operations(schema, document, limits)
    if len(operations) + len(refused) <= 1:
        if refused:
            return next(iter(refused.values())), None
        if not any(product for operation in operations.values() for product in operation.cost):
            return [], None
    # Several operations (the request names one), or page sizes from variables.
    return [], Budget(schema, operations, refused, limits.max_cost)


def count_selections(document: DocumentNode) -> int:
    """Fields, fragment spreads and inline fragments as written (fragments once each)."""
    pending: list[SelectionSetNode] = [
        selection_set
        for definition in document.definitions
        if (selection_set := getattr(definition, "selection_set", None)) is not None
    ]
    count = 0
    while pending:
        selections = pending.pop().selections
        count += len(selections)
        for selection in selections:
            inner = getattr(selection, "selection_set", None)
            if inner is not None:
                pending.append(inner)
    return count


def _measure_operations(
    schema: GraphQLSchema, document: DocumentNode, limits: Limits
) -> tuple[dict[str | None, Operation], dict[str | None, list[QueryTooComplex]]]:
    fragments = {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    operations: dict[str | None, Operation] = {}
    refused: dict[str | None, list[QueryTooComplex]] = {}
    for operation in document.definitions:
        if not isinstance(operation, OperationDefinitionNode):
            continue
        name = operation.name.value if operation.name else None
        root = schema.get_root_type(operation.operation)
        if root is None:  # validation refuses an operation type the schema lacks
            continue
        measurer = Measurer(schema, fragments, limits.max_page_size)
        try:
            measure = measurer.selections(operation.selection_set, root, None, counted=True)
        except RecursionError:  # fragments nested beyond what a walk can follow
            refused[name] = [_too_deep(limits, None)]
            continue
        refusals = _static_refusals(measure, limits)
        if refusals:
            refused[name] = refusals
        else:
            operations[name] = Operation(measure.cost, operation.variable_definitions or ())
    return operations, refused


def _too_deep(limits: Limits, actual: int | None) -> QueryTooComplex:
    what = "nested too deeply" if actual is None else f"nested {actual} fields deep"
    return QueryTooComplex(
        f"The query is {what}, more than the limit of {limits.max_depth}.",
        limit="depth",
        maximum=limits.max_depth,
        actual=actual,
    )


def _static_refusals(measure: Measure, limits: Limits) -> list[QueryTooComplex]:
    refusals: list[QueryTooComplex] = []
    if measure.depth > limits.max_depth:
        refusals.append(_too_deep(limits, measure.depth))
    if measure.aliases > limits.max_aliases:
        message = f"The query uses {measure.aliases} aliases, more than the limit of "
        refusals.append(
            QueryTooComplex(
                message + f"{limits.max_aliases}.",
                limit="aliases",
                maximum=limits.max_aliases,
                actual=measure.aliases,
            )
        )
    if not any(measure.cost):
        total = measure.cost.get((), 0)
        if total > limits.max_cost:
            refusals.append(cost_error(total, limits.max_cost))
    return refusals


class TooManyComparisons(ValidationAbortedError):
    """Validation stopped: the query repeats fields or fragments at one level too often."""

    def __init__(self) -> None:
        super().__init__(
            "The query repeats fields or fragments at one level so often that checking "
            f"them against each other would take more than {MAX_COMPARISONS} comparisons: "
            "select each field once.",
            extensions={
                "code": QUERY_TOO_COMPLEX,
                "limit": "comparisons",
                "maximum": MAX_COMPARISONS,
            },
        )


class BoundedOverlappingFieldsRule(OverlappingFieldsCanBeMergedRule):
    """graphql-core's rule, with its own comparison budget set to ``MAX_COMPARISONS``."""

    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        self.rule_context.remaining_complexity_budget = MAX_COMPARISONS

    def enter_selection_set(self, *args: Any) -> None:
        try:
            super().enter_selection_set(*args)
        except ValidationAbortedError:
            if self.rule_context.remaining_complexity_budget >= 0:
                raise  # aborted for another reason (too many errors)
            raise TooManyComparisons from None


VALIDATION_RULES = tuple(
    BoundedOverlappingFieldsRule if rule is OverlappingFieldsCanBeMergedRule else rule
    for rule in specified_rules
)
