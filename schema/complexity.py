"""Query limits: depth, aliases and estimated cost, measured once per query text.

A query is measured after validation (so its fragments exist and do not form cycles) and
the measure is cached with the parsed document: a request whose query text was seen
before pays nothing here unless a page size comes from a variable, and then only a few
multiplications (``Budget.refusal``).

The cost estimates how many objects an answer may hold, as public GraphQL APIs commonly
count it: every object (a person, an address, a relation, an edge, a connection) counts
one, scalars nothing, and a list multiplies what is inside it by its length — the page
size ``first`` for a connection's ``edges`` (a literal, the variable's value at request
time, or the argument's default), and a typical length for the other lists
(``LIST_LENGTHS``). Introspection fields count no depth and no cost: graphql-core's
``MaxIntrospectionDepthRule`` already bounds them; their aliases are counted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLCompositeType,
    GraphQLField,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_composite_type,
    is_list_type,
)
from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef

from schema.context import Limits
from schema.errors import QueryTooComplex

# How many items a list without a page size typically holds, by (type, field): a family
# has two guardians, a few children; relations are all of them together.
LIST_LENGTHS: Mapping[tuple[str, str], int] = {
    ("Person", "relations"): 8,
    ("Person", "children"): 4,
    ("Person", "guardians"): 2,
    ("Person", "wards"): 4,
}
DEFAULT_LIST_LENGTH = 10
PAGE_SIZE_ARGUMENT = "first"

# A page size read from a variable at request time: (variable name, value when absent).
PageVariable = tuple[str, int]
# A polynomial in page-size variables: product of variables -> coefficient.
Cost = dict[tuple[PageVariable, ...], int]
Factor = int | PageVariable


@dataclass(frozen=True, slots=True)
class Measure:
    depth: int
    aliases: int
    cost: Cost


@dataclass(frozen=True, slots=True)
class Budget:
    """What is left to check per request: which operation runs, or its page sizes."""

    costs: Mapping[str | None, Cost]
    refused: Mapping[str | None, list[QueryTooComplex]]
    max_cost: int
    max_page_size: int

    def refusals(
        self, variables: Mapping[str, Any] | None, operation_name: str | None
    ) -> list[QueryTooComplex]:
        if operation_name is None and len(self.costs) + len(self.refused) == 1:
            operation_name = next(iter({**self.costs, **self.refused}))
        if operation_name in self.refused:
            return self.refused[operation_name]
        cost = self.costs.get(operation_name)
        if cost is None:
            return []  # no such operation: execution says so
        total = evaluate(cost, variables or {}, self.max_page_size)
        return [] if total <= self.max_cost else [cost_error(total, self.max_cost)]


def cost_error(total: int, maximum: int) -> QueryTooComplex:
    return QueryTooComplex(
        f"The query may return about {total} objects, more than the limit of {maximum}: "
        "ask for smaller pages or fewer nested lists.",
        limit="cost",
        maximum=maximum,
        actual=total,
    )


def evaluate(cost: Cost, variables: Mapping[str, Any], max_page_size: int) -> int:
    total = 0
    for product, coefficient in cost.items():
        for name, absent in product:
            coefficient *= _page_size(variables.get(name, absent), max_page_size)
        total += coefficient
    return total


def _page_size(value: Any, max_page_size: int) -> int:
    """A page size as the resolver will see it; one it refuses returns nothing.

    ``first`` outside 1..``max_page_size``, null, or not a number is refused before any
    of the page is read (by the resolver, or by graphql-core's variable coercion), with
    an error that says what to change, so it costs nothing here.
    """
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= max_page_size:
        return value
    return 0


def check(
    schema: GraphQLSchema, document: DocumentNode, limits: Limits
) -> tuple[list[QueryTooComplex], Budget | None]:
    """Refusals known from the text alone, and what is left to check per request.

    The budget is None when nothing is left: one operation, whose cost depends on no
    variable. ``document`` must have passed validation.
    """
    fragments = {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    costs: dict[str | None, Cost] = {}
    refused: dict[str | None, list[QueryTooComplex]] = {}
    for operation in operations:
        name = operation.name.value if operation.name else None
        root = schema.get_root_type(operation.operation)
        if root is None:  # pragma: no cover - validation refuses unknown operation types
            continue
        measurer = _Measurer(schema, fragments, operation, limits.max_page_size)
        measure = measurer.selections(operation.selection_set, root, None, counted=True)
        refusals = _static_refusals(measure, limits)
        if refusals:
            refused[name] = refusals
        else:
            costs[name] = measure.cost
    if len(operations) == 1:
        if refused:
            return next(iter(refused.values())), None
        if all(not product for cost in costs.values() for product in cost):
            return [], None
    # Several operations (the request names one), or page sizes from variables.
    return [], Budget(costs, refused, limits.max_cost, limits.max_page_size)


def _static_refusals(measure: Measure, limits: Limits) -> list[QueryTooComplex]:
    refusals: list[QueryTooComplex] = []
    checks = (
        ("depth", measure.depth, limits.max_depth, f"is nested {measure.depth} fields deep"),
        ("aliases", measure.aliases, limits.max_aliases, f"uses {measure.aliases} aliases"),
    )
    for limit, actual, maximum, what in checks:
        if actual > maximum:
            message = f"The query {what}, more than the limit of {maximum}."
            refusals.append(QueryTooComplex(message, limit=limit, maximum=maximum, actual=actual))
    if all(not product for product in measure.cost):
        total = measure.cost.get((), 0)
        if total > limits.max_cost:
            refusals.append(cost_error(total, limits.max_cost))
    return refusals


class _Measurer:
    """Walks one operation; each selection set is measured once per parent type and page."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        operation: OperationDefinitionNode,
        max_page_size: int,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.max_page_size = max_page_size
        self.variable_defaults = {
            definition.variable.name.value: definition.default_value
            for definition in operation.variable_definitions or ()
        }
        self.memo: dict[tuple[int, str, Factor | None, bool], Measure] = {}

    def selections(
        self,
        node: SelectionSetNode,
        parent: GraphQLCompositeType,
        page: Factor | None,
        *,
        counted: bool,
    ) -> Measure:
        key = (id(node), parent.name, page, counted)
        known = self.memo.get(key)
        if known is not None:
            return known
        depth = aliases = 0
        cost: Cost = {}
        for selection in node.selections:
            if isinstance(selection, FieldNode):
                measure = self.field(selection, parent, page, counted=counted)
            else:
                type_name: str | None = None
                if isinstance(selection, InlineFragmentNode):
                    inner = selection.selection_set
                    if selection.type_condition is not None:
                        type_name = selection.type_condition.name.value
                elif isinstance(selection, FragmentSpreadNode):
                    fragment = self.fragments[selection.name.value]
                    inner, type_name = fragment.selection_set, fragment.type_condition.name.value
                else:  # pragma: no cover - the grammar has no other selections
                    continue
                condition = self.schema.get_type(type_name) if type_name else parent
                measure = self.selections(inner, condition, page, counted=counted)  # type: ignore[arg-type]
            depth = max(depth, measure.depth)
            aliases += measure.aliases
            _add(cost, measure.cost)
        measure = Measure(depth, aliases, cost)
        self.memo[key] = measure
        return measure

    def field(
        self, node: FieldNode, parent: GraphQLCompositeType, page: Factor | None, *, counted: bool
    ) -> Measure:
        name = node.name.value
        alias = 1 if node.alias is not None else 0
        counted = counted and not name.startswith("__")
        definition: GraphQLField | None = getattr(parent, "fields", {}).get(name)
        if definition is None:  # __typename, or introspection on the root
            definition = _introspection_field(name)
        if node.selection_set is None or definition is None:
            return Measure(1 if counted else 0, alias, {})
        field_type = get_named_type(definition.type)
        if not is_composite_type(field_type):
            return Measure(1 if counted else 0, alias, {})
        child_page = self._page(node, definition)
        inner = self.selections(node.selection_set, field_type, child_page, counted=counted)
        if not counted:
            return Measure(0, alias + inner.aliases, {})
        cost: Cost = {(): 1}
        _add(cost, inner.cost)
        if is_list_type(get_nullable_type(definition.type)):
            length = (
                page
                if page is not None
                else LIST_LENGTHS.get((parent.name, name), DEFAULT_LIST_LENGTH)
            )
            cost = _times(cost, length)
        return Measure(1 + inner.depth, alias + inner.aliases, cost)

    def _page(self, node: FieldNode, definition: GraphQLField) -> Factor | None:
        """The page size a field's ``first`` sets for the lists directly inside it."""
        argument = definition.args.get(PAGE_SIZE_ARGUMENT)
        if argument is None:
            return None
        default = argument.default_value
        absent = default if isinstance(default, int) else self.max_page_size
        for given in node.arguments or ():
            if given.name.value != PAGE_SIZE_ARGUMENT:
                continue
            if isinstance(given.value, IntValueNode):
                return _page_size(int(given.value.value), self.max_page_size)
            if isinstance(given.value, VariableNode):
                variable = given.value.name.value
                declared = self.variable_defaults.get(variable)
                if isinstance(declared, IntValueNode):
                    absent = int(declared.value)
                return (variable, _page_size(absent, self.max_page_size))
            return 0  # null: refused before the page is read
        return _page_size(absent, self.max_page_size)


def _introspection_field(name: str) -> GraphQLField | None:
    return {"__schema": SchemaMetaFieldDef, "__type": TypeMetaFieldDef}.get(name)


def _add(into: Cost, more: Cost) -> None:
    for product, coefficient in more.items():
        into[product] = into.get(product, 0) + coefficient


def _times(cost: Cost, factor: Factor) -> Cost:
    if isinstance(factor, int):
        return {product: coefficient * factor for product, coefficient in cost.items()}
    return {tuple(sorted((*product, factor))): coefficient for product, coefficient in cost.items()}
