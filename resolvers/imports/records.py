"""What a Navet delivery file says, once read: the file's identity and its records.

The reader (``resolvers.imports.navet``) turns a ``Navetavisering`` file into a ``Delivery``
and a stream of ``Record``; the importer (``resolvers.imports.apply``) writes them. Neither
side knows the other's details: these types are the whole contract between them.

A record's parts are ``None`` when the record does not carry them (a change notice that is
not a ``totalpost`` changes only what it carries), and an empty tuple when it carries the
part with nothing in it (an ``Adresser`` element with no address: the person has none).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from resolvers.register.rows import AddressRow

FULL, CHANGES = "FULL", "CHANGES"
SEKRETESS, SKYDDAD = "SEKRETESSMARKERING", "SKYDDAD_FOLKBOKFORING"


@dataclass(frozen=True, slots=True)
class Delivery:
    """``Aviseringsinformation/Filinformation``: which delivery and which file of it."""

    order_id: str  # BestallningsId, 18 characters
    order_type: str  # Bestallningstyp, as delivered
    product: str  # Produkt
    file_name: str  # Utfil/Filnamn
    effective_date: dt.date | None  # Utfil/Effektueringsdatum
    records_in_file: int  # Utfil/AntalPoster
    records_in_delivery: int  # Utfil/AntalPosterTotalt
    files_in_delivery: int  # Utfil/AntalFiler
    file_no: int  # Utfil/FilNr, 1..AntalFiler
    job_id: int  # Utfil/JobbId
    sequence_no: int | None  # Utfil/LopNr
    kind: str  # FULL (a grunduttag) or CHANGES (an ändringsavisering)


@dataclass(frozen=True, slots=True)
class Names:
    """``Namn``."""

    first_names: str
    given_name_code: str | None  # Tilltalsnamnsmarkering, two digits
    middle_name: str | None
    last_name: str


@dataclass(frozen=True, slots=True)
class Registration:
    """``Folkbokforing``: where and since when the person is folkbokförd."""

    registered_on: dt.date | None  # Folkbokforingsdatum: the flyttdatum officials see
    county_code: str | None  # LanKod, two digits
    municipality_code: str | None  # KommunKod, two digits within the county
    property_designation: str | None  # Fastighetsbeteckning


@dataclass(frozen=True, slots=True)
class CivilStatus:
    """``Civilstand``."""

    code: str  # OG G Ä S RP SP EP
    since: dt.date | None


@dataclass(frozen=True, slots=True)
class Deregistration:
    """``Avregistrering``."""

    code: str  # AV UV GN AN AS GS OB TA FI
    date: dt.date | None


@dataclass(frozen=True, slots=True)
class Relation:
    """``Relationer/Relation``, as seen from the record's person."""

    kind: str  # B MO FA F V VF M P
    personnummer: str  # 12 digits; a person who never had one: birth date + 0000
    valid_from: dt.date | None
    valid_to: dt.date | None


@dataclass(frozen=True, slots=True)
class Record:
    """One ``Folkbokforingspost``: one person, as of one change.

    ``protection`` is SKYDDAD when ``SkyddadFolkbokforing`` is J, else SEKRETESS when
    ``Sekretessmarkering`` is J, else None (both N or absent). ``new_personnummer`` and
    the relations never name ``personnummer`` itself (the importer refuses such a record).
    """

    post_id: int  # Arendeuppgift/PostId
    changed_at: dt.datetime | None  # Arendeuppgift/@andringstidpunkt (yyyyMMddHHmmss)
    total: bool  # Arendeuppgift/@totalpost (J/true); a full extract's records are all total
    personnummer: str  # Personpost/PersonId, 12 digits
    protection: str | None
    new_personnummer: str | None  # HanvisningsPersonNr / Hanvisningar: the number now used
    deregistration: Deregistration | None
    names: Names | None
    registration: Registration | None
    addresses: tuple[AddressRow, ...] | None  # kinds F, S, U; county/municipality on F
    civil_status: CivilStatus | None
    relations: tuple[Relation, ...] | None
