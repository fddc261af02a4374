"""An ariadne-codegen plugin, used only while generating: a method is named for what it
returns, so that `GetPerson` is `client.person(...)`.

ariadne-codegen names a method, its module and its result class after the operation. An
operation named `Person` would make a result class `Person` beside the fragment
`Person` (the type a lookup answers with), so the operations are named `Get…` and their
methods drop the verb.
"""

from __future__ import annotations

from ariadne_codegen.plugins.base import Plugin
from graphql import Node, OperationDefinitionNode

VERB = "get_"


class MethodNames(Plugin):
    def process_name(self, name: str, node: Node | None = None) -> str:
        if isinstance(node, OperationDefinitionNode):
            return name.removeprefix(VERB)
        return name
