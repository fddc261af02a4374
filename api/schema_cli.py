"""``vastfolket schema``: the published schema against the last released one.

``check`` compares them (``schema.evolution``) and exits 1 on a breaking change that was
not declared by a released deprecation; ``release`` makes the published schema the
released one, for a new release (deliberately breaking or not). Exit code 2: a file
that cannot be read as SDL.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from graphql import GraphQLError, build_schema

from schema.build import SDL_PATH
from schema.evolution import RELEASED_PATH, Comparison, compare, report

app = typer.Typer(help="The published schema and the last released one.", no_args_is_help=True)

Released = Annotated[Path, typer.Option(help="The last released schema.", dir_okay=False)]
Published = Annotated[Path, typer.Option(help="The schema to publish.", dir_okay=False)]


@app.command()
def check(released: Released = RELEASED_PATH, published: Published = SDL_PATH) -> None:
    """Fail (exit 1) on a change that breaks clients of the released schema."""
    comparison = _compare(released, published)
    typer.echo(report(comparison, str(released)), err=not comparison.ok)
    if not comparison.ok:
        raise typer.Exit(1)


@app.command()
def release(released: Released = RELEASED_PATH, published: Published = SDL_PATH) -> None:
    """Make the published schema the released one (after a release, or to break on purpose).

    Prints what it accepts that breaks clients of the schema released before.
    """
    comparison = _compare(released, published) if released.exists() else Comparison()
    if comparison.breaking:
        typer.echo("Released with these breaking changes:", err=True)
        typer.echo("\n".join(f"  - {change}" for change in comparison.breaking), err=True)
    released.write_text(published.read_text(encoding="utf-8"), encoding="utf-8")
    typer.echo(f"Wrote {released}: the schema clients now build on. Commit it.")


def _compare(released: Path, published: Path) -> Comparison:
    return compare(_sdl(released), _sdl(published))


def _sdl(path: Path) -> str:
    """The file's text, once it reads as a valid schema; else one line and exit 2."""
    try:
        text = path.read_text(encoding="utf-8")
        build_schema(text)
    except OSError as error:
        typer.echo(f"Error: cannot read {path}: {error.strerror}", err=True)
        raise typer.Exit(2) from None
    except GraphQLError as error:
        typer.echo(f"Error: {path} is not a valid schema: {error.message}", err=True)
        raise typer.Exit(2) from None
    return text
