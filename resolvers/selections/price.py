"""The price of a selection: a handling fee per order plus a price per row, which may
fall by volume (each band's price applies to the rows above its threshold, as the
public lists do it: 1.60 kr a row, 0.24 kr a row above 1 500 000)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any, NamedTuple

ORE = Decimal("0.01")


class Band(NamedTuple):
    above: int  # rows beyond this many are priced at per_row
    per_row: Decimal


class PriceList(NamedTuple):
    handling_fee: Decimal
    per_row: Decimal
    bands: tuple[Band, ...] = ()

    def price(self, rows: int) -> Decimal:
        """The order's price for ``rows`` rows, to the öre."""
        thresholds = [Band(0, self.per_row), *sorted(self.bands)]
        total = self.handling_fee
        for band, following in zip(thresholds, [*thresholds[1:], None], strict=True):
            upper = rows if following is None else min(rows, following.above)
            if upper > band.above:
                total += (upper - band.above) * band.per_row
        return total.quantize(ORE, rounding=ROUND_HALF_UP)

    def as_json(self) -> dict[str, Any]:
        """As the order keeps it: the list in force when it was placed."""
        return {
            "handlingFee": str(self.handling_fee),
            "perRow": str(self.per_row),
            "bands": [{"above": band.above, "perRow": str(band.per_row)} for band in self.bands],
        }

    @classmethod
    def from_json(cls, kept: dict[str, Any]) -> PriceList:
        bands = tuple(Band(int(b["above"]), Decimal(b["perRow"])) for b in kept["bands"])
        return cls(Decimal(kept["handlingFee"]), Decimal(kept["perRow"]), bands)


# The settings' defaults (api/settings.py): Transportstyrelsen's public list.
DEFAULT_PRICES = PriceList(Decimal("1071.00"), Decimal("1.60"), (Band(1_500_000, Decimal("0.24")),))
