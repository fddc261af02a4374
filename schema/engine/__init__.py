"""The engine: how an operation on the Strawberry-declared schema is run.

Two calls, made by the one operation pipeline (``api.operation``) for every transport::

    engine = Engine(build_schema(), limits, stock=False, observer=metrics)
    prepared = engine.prepare(text)            # once per distinct text (cached)
    result = await engine.execute(prepared, context, variables, operation_name)

``prepare`` parses the text within the token limit, measures it against the other
limits (selections, depth, aliases, cost: ``complexity``, ``measure``) before
validating it (validation costs more, and grows with the square of repeated fields),
validates it, and decides from the parsed document whether plans may be shared between
requests. What it refuses comes back as ``Prepared.errors`` with their codes.

``execute`` checks what only the request decides (page sizes from variables), then
runs the operation on one of two paths, chosen when the engine is built
(``VASTFOLKET_ENGINE``):

- fast (``execution``, ``plan``, ``planning``): plain fields — attributes, and
  relations loaded ahead for a page — are read directly, and a selection plain all the
  way down is answered by one compiled reader (each selection's plan made once, and
  shared between requests where it may be); the rest takes graphql-core's path inside
  the same context.
- stock (``stock``): graphql-core's own execution, as Strawberry runs it. It is the
  reference the differential tests hold the fast path to, and an operator's switch.

Both ask the same declarations, so neither can decide differently:

- who may read a field: each permission's ``allows(viewer)`` (``schema.directives``);
- what an answer discloses: a type that shows persons is declared with ``@discloses``
  (``disclosure``), and every object of it completed is noted in ``context.access``.

A compiled reader that raises is told to the ``observer`` (the API counts it), and the
general path answers instead. The engine knows rows, types and graphql-core; transports,
status codes, the access log's writing and error codes are the pipeline's.

A subscription (``subscribe``) is started like graphql-core starts one — the root field's
resolver, its arguments coerced and its permission asked, returns the source — but the
source yields *batches* of events, and ``Stream.results(batch)`` runs the selection on
each event of a batch together, so what they load is loaded once for the batch: on the
fast path by one compiled reader per event where the event's selection compiles to one
(``events``), else by graphql-core's per-event execution, on the same path and with the
same notes as ``execute``. The pipeline writes a batch's access record before any of its
results is sent.
"""

from schema.engine.disclosure import UndeclaredDisclosure, discloses, discloses_nothing
from schema.engine.engine import Engine
from schema.engine.observer import Observer
from schema.engine.plan import NOT_READY, READ_AHEAD
from schema.engine.prepare import Prepared

__all__ = [
    "NOT_READY",
    "READ_AHEAD",
    "Engine",
    "Observer",
    "Prepared",
    "UndeclaredDisclosure",
    "discloses",
    "discloses_nothing",
]
