"""The ``@requiresTier`` and ``@requiresRole`` directives: declared per field, each
enforced by one permission class.

A permission answers one question, ``allows(viewer)``: both engines ask it, the stock
one through ``has_permission`` (Strawberry's permission extension), the fast one when it
plans a field (``schema.engine.plan``). A condition belongs in ``allows``; a gate that
overrode ``has_permission`` would answer the engines differently, so it is refused.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry
from strawberry.extensions.field_extension import FieldExtension
from strawberry.permission import BasePermission, PermissionExtension
from strawberry.schema_directive import Location
from strawberry.types import Info

from resolvers.domain.access import Tier as AccessTier
from resolvers.domain.access import Viewer
from schema.errors import FORBIDDEN


@strawberry.enum(description="Behörighetsnivå — authority tier; each sees all of the tier below.")
class Tier(Enum):
    BASIC = strawberry.enum_value(
        "BASIC", description="Grundbehörighet: identity, names, status and addresses."
    )
    EXTENDED = strawberry.enum_value(
        "EXTENDED",
        description="Utökad: also flyttdatum, nyckelkod, civilstånd and deregistration details.",
    )
    RELATIONS = strawberry.enum_value(
        "RELATIONS",
        description="Relationer: also spouse, partner, children, guardians and wards.",
    )

    @classmethod
    def of(cls, tier: AccessTier) -> Tier:
        return cls[tier.name]


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="requiresTier",
    description="Only callers of this tier or higher may read the field; others get "
    "null and a FORBIDDEN error at its path.",
)
class RequiresTier:
    tier: Tier


def tier_allows(caller: AccessTier, required: AccessTier) -> bool:
    """The one place where a caller's tier is compared with a field's."""
    return caller >= required


class Gate(BasePermission):
    """A field only some callers may read; the others get null and FORBIDDEN there.

    Subclasses answer ``allows(viewer)``; the caller's viewer is all they may look at.
    """

    error_extensions = {"code": FORBIDDEN}  # noqa: RUF012  (read only, as Strawberry's own)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "has_permission" in cls.__dict__:
            raise TypeError(
                f"{cls.__name__} overrides has_permission: put its condition in allows(), "
                "the one question both engines ask"
            )

    def allows(self, viewer: Viewer) -> bool:
        """Whether this caller may read the field; a gate that does not say refuses."""
        return False

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return self.allows(info.context.viewer)


class TierPermission(Gate):
    """Gates a field by tier; used through ``requires_tier``."""

    def __init__(self, tier: AccessTier) -> None:
        self.tier = tier
        self.message = f"This field requires tier {tier.name} or higher."

    def allows(self, viewer: Viewer) -> bool:
        return tier_allows(viewer.tier, self.tier)

    @property
    def schema_directive(self) -> object:
        return RequiresTier(tier=Tier.of(self.tier))


_TIERS = {tier: TierPermission(tier) for tier in AccessTier}


def requires_tier(tier: AccessTier) -> list[FieldExtension]:
    """Field extensions that gate a field by tier and print the directive in the SDL."""
    return [PermissionExtension([_TIERS[tier]])]


def may_read(info: Info, tier: AccessTier) -> bool:
    """Whether the caller may read fields of ``tier``, as those fields' permission
    answers it (for a resolver deciding what to load ahead)."""
    return _TIERS[tier].allows(info.context.viewer)


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="requiresRole",
    description="Only callers holding this role (beside their tier) may read the field; "
    "others get null and a FORBIDDEN error at its path.",
)
class RequiresRole:
    role: str


AUDIT_ROLE = "audit"  # reads the access log and every organisation's selection orders


class RolePermission(Gate):
    """Gates a field by a role such as ``audit``; used through ``requires_role``."""

    def __init__(self, role: str) -> None:
        self.role = role
        self.message = f"This field requires the role '{role}'."

    def allows(self, viewer: Viewer) -> bool:
        return self.role in viewer.roles

    @property
    def schema_directive(self) -> object:
        return RequiresRole(role=self.role)


def requires_role(role: str) -> list[FieldExtension]:
    """Field extensions that gate a field by role and print the directive in the SDL."""
    return [PermissionExtension([RolePermission(role)])]
