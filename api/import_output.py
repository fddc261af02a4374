"""What ``vastfolket import`` shows: each file's progress while it is read (a bar on a
terminal, else a JSON log line every 5 s), then a summary on stdout of what became of
each file and its counts (docs/imports.md says what each count means)."""

from __future__ import annotations

import logging
import time

from rich import box
from rich.console import Console, Group
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from resolvers.imports.rounds import COUNTS
from resolvers.imports.source import Outcome

logger = logging.getLogger("vastfolket.imports")


class Shown:
    """Progress of one file: a rich bar on a terminal, else a JSON log line every 5 s."""

    def __init__(self, name: str, total: int | None, bar: Progress | None) -> None:
        self.name, self.total, self.bar = name, total, bar
        self.task = bar.add_task(name, total=total) if bar else None
        self.started = self.logged = time.monotonic()

    def read(self, records: int) -> None:
        if self.bar is not None and self.task is not None:
            self.bar.update(self.task, completed=records)
            return
        now = time.monotonic()
        if now - self.logged >= 5:
            self.logged = now
            rate = records / max(now - self.started, 1e-6)
            logger.info("import progress", extra={
                "file": self.name, "records": records, "of": self.total,
                "records_per_second": round(rate),
            })  # fmt: skip

    def applying(self) -> None:
        if self.bar is not None and self.task is not None:
            self.bar.update(self.task, description=f"{self.name} (applying)")
        else:
            logger.info("import applying", extra={"file": self.name})


class RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        return Text("" if task.speed is None else f"{task.speed:,.0f} records/s")


def progress_bar(console: Console) -> Progress:
    """Records read of AntalPoster, the rate, and the time left at that rate."""
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        TaskProgressColumn(), RateColumn(), TimeRemainingColumn(), console=console,
    )  # fmt: skip


def summary(outcomes: list[Outcome]) -> Group:
    """A row per file — its status, records and seconds —, then a row of its counts, in
    a column for each count some file has: it reads in 80 columns beside file names of
    30 characters. A file applied before has no counts."""
    shown = [count for count in COUNTS if any(o.counts.get(count) for o in outcomes)]
    files: list[tuple[str, ...]] = []
    counts: list[tuple[str, ...]] = []
    for number, outcome in enumerate(outcomes, 1):
        read = str(outcome.records) if outcome.counts else ""
        files.append((str(number), outcome.name, outcome.status, read, f"{outcome.seconds:.1f}"))
        if outcome.counts:
            counts.append((str(number), *(str(outcome.counts.get(c, 0)) for c in shown)))
    headers = ("#", *(count.replace("_", "\n") for count in shown))
    tables = [_table("Import", ("#", "file", "status", "records", "seconds"), files)]
    return Group(*tables, *([_table("Counts", headers, counts)] if shown else []))


def _table(title: str, headers: tuple[str, ...], rows: list[tuple[str, ...]]) -> Table:
    """Numbers right-aligned and never cut: where the table is too wide, headers give way."""
    table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False, title_justify="left")
    for index, header in enumerate(headers):
        width = max((len(row[index]) for row in rows), default=0)
        text = header in ("file", "status")
        table.add_column(header, justify="left" if text else "right", min_width=width)
    for row in rows:
        table.add_row(*row)
    return table
