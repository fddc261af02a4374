"""The walk behind the query limits: one operation's depth, aliases and estimated cost.

It runs before validation, so that a document whose validation would be expensive is
refused first, and so it does not trust the document: a spread of a fragment that does
not exist or is being spread already (a cycle), a type condition that names no object,
interface or union, and a field its type does not have are passed over. Validation
refuses all of them afterwards; the walk only has to stay short.

Page sizes are read as the resolver will get them: graphql-core coerces the ``first``
argument (a literal, its default, or a variable) with its own rules — a variable
``first: 500.0`` reaches the resolver as 500, and so it counts 500 here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLCompositeType,
    GraphQLError,
    GraphQLField,
    GraphQLSchema,
    InlineFragmentNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_composite_type,
    is_list_type,
)
from graphql.execution.values import VariableValues, get_argument_values
from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef

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
# Field metadata: the largest ``first`` a paged field serves, when not the usual
# ``max_page_size`` (the change feed's pages are larger).
MAX_PAGE_SIZE = "max_page_size"
# Field metadata: objects a field costs beyond those it returns, for the work it does to
# find them (the change feed's page looks through many events for a filter's matches):
# aliases of it add up to the cost limit like aliases of a large page.
WEIGHT = "cost_weight"


class PageSize:
    """A page size that comes from a variable: known per request, once coerced."""

    __slots__ = ("field", "maximum", "node")

    def __init__(self, definition: GraphQLField, node: FieldNode, maximum: int) -> None:
        # The field narrowed to its page-size argument: coercing the others (and
        # failing on them) is execution's business.
        argument = definition.args[PAGE_SIZE_ARGUMENT]
        self.field = GraphQLField(definition.type, {PAGE_SIZE_ARGUMENT: argument})
        self.node = node
        self.maximum = maximum  # the largest page the field serves

    def value(self, variables: VariableValues | None) -> Any:
        """``first`` as the resolver gets it, or None if execution refuses it."""
        try:
            return get_argument_values(self.field, self.node, variables).get(PAGE_SIZE_ARGUMENT)
        except GraphQLError:
            return None


# A polynomial in page sizes from variables: product of factors -> coefficient.
Cost = dict[tuple[PageSize, ...], int]
Factor = int | PageSize


def page_size(value: Any, max_page_size: int) -> int:
    """A coerced page size as it counts; one the resolver refuses returns nothing.

    ``first`` outside 1..``max_page_size`` or null is refused before any of the page is
    read, with an error that says what to change, so it costs nothing here.
    """
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= max_page_size:
        return value
    return 0


@dataclass(frozen=True, slots=True)
class Measure:
    depth: int
    aliases: int
    cost: Cost


class Measurer:
    """Walks one operation; each selection set is measured once per parent type and page."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        max_page_size: int,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.max_page_size = max_page_size
        self.memo: dict[tuple[int, str, Factor | None, bool], Measure] = {}
        self.pages: dict[int, PageSize] = {}  # by field node: one factor per variable use
        self.entered: set[str] = set()  # fragments being measured: a spread of one is a cycle

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
            measure: Measure | None
            if isinstance(selection, FieldNode):
                measure = self.field(selection, parent, page, counted=counted)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                within = self._condition(condition.name.value if condition else None, parent)
                measure = None
                if within is not None:
                    measure = self.selections(
                        selection.selection_set, within, page, counted=counted
                    )
            elif isinstance(selection, FragmentSpreadNode):
                measure = self._spread(selection.name.value, parent, page, counted)
            else:  # pragma: no cover - the grammar has no other selections
                measure = None
            if measure is None:
                continue
            depth = max(depth, measure.depth)
            aliases += measure.aliases
            _add(cost, measure.cost)
        total = Measure(depth, aliases, cost)
        self.memo[key] = total
        return total

    def _spread(
        self, name: str, parent: GraphQLCompositeType, page: Factor | None, counted: bool
    ) -> Measure | None:
        fragment = self.fragments.get(name)
        if fragment is None or name in self.entered:
            return None
        within = self._condition(fragment.type_condition.name.value, parent)
        if within is None:
            return None
        self.entered.add(name)
        try:
            return self.selections(fragment.selection_set, within, page, counted=counted)
        finally:
            self.entered.discard(name)

    def _condition(
        self, type_name: str | None, parent: GraphQLCompositeType
    ) -> GraphQLCompositeType | None:
        """The type a fragment applies to, or None if it names no composite type."""
        condition = self.schema.get_type(type_name) if type_name else parent
        return condition if is_composite_type(condition) else None

    def field(
        self, node: FieldNode, parent: GraphQLCompositeType, page: Factor | None, *, counted: bool
    ) -> Measure:
        name = node.name.value
        alias = 1 if node.alias is not None else 0
        counted = counted and not name.startswith("__")
        definition: GraphQLField | None = getattr(parent, "fields", {}).get(name)
        if definition is None:  # __typename, introspection on the root, or no such field
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
        cost: Cost = {(): 1 + self._weight(definition)}
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
        if PAGE_SIZE_ARGUMENT not in definition.args:
            return None
        known = self.pages.get(id(node))
        if known is not None:
            return known
        size = PageSize(definition, node, self._maximum(definition))
        given = [a.value for a in node.arguments or () if a.name.value == PAGE_SIZE_ARGUMENT]
        if any(isinstance(value, VariableNode) for value in given):
            self.pages[id(node)] = size
            return size
        return page_size(size.value(None), size.maximum)  # a literal, or the default

    def _maximum(self, definition: GraphQLField) -> int:
        return int(_declared(definition).get(MAX_PAGE_SIZE, self.max_page_size))

    def _weight(self, definition: GraphQLField) -> int:
        return int(_declared(definition).get(WEIGHT, 0))


def _declared(definition: GraphQLField) -> dict[str, Any]:
    """The field's metadata as its Strawberry declaration gives it."""
    field = (definition.extensions or {}).get("strawberry-definition")
    return dict(getattr(field, "metadata", None) or {})


def _introspection_field(name: str) -> GraphQLField | None:
    return {"__schema": SchemaMetaFieldDef, "__type": TypeMetaFieldDef}.get(name)


def _add(into: Cost, more: Cost) -> None:
    for product, coefficient in more.items():
        into[product] = into.get(product, 0) + coefficient


def _times(cost: Cost, factor: Factor) -> Cost:
    if isinstance(factor, int):
        return {product: coefficient * factor for product, coefficient in cost.items()}
    # Factors in a fixed order, so that one product is one key however it was reached.
    return {
        tuple(sorted((*product, factor), key=id)): coefficient
        for product, coefficient in cost.items()
    }


def evaluate(cost: Cost, variables: VariableValues | None) -> int:
    """The cost for one request's coerced variables."""
    sizes: dict[int, int] = {}
    total = 0
    for product, coefficient in cost.items():
        for factor in product:
            size = sizes.get(id(factor))
            if size is None:
                size = sizes[id(factor)] = page_size(factor.value(variables), factor.maximum)
            coefficient *= size
        total += coefficient
    return total
