"""The ``vastfolket`` command line."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from urllib.parse import quote

import typer
import uvicorn
from rich.console import Console

from api import changes_cli, imports, schema_cli
from api.auth import mint_dev_token
from api.demo import demo_examples, load_for_serve, write_demo
from api.graphiql_tabs import declared_roles
from api.keytool import keys, token
from api.runtime import Commands, database_url, prepare, stops_embedded_database
from api.settings import Settings
from api.startup import StartupError, check_serve, cli_command
from api.worker import worker
from resolvers.development import SIMULATOR, development_only
from resolvers.domain.access import Tier
from schema.build import SDL_PATH, sdl

if TYPE_CHECKING:  # the development parts, imported where a command needs them
    from resolvers.dev.skatteverket.simulator import RunningSimulator

app = Commands(help="Västfolket API — the population register's GraphQL API.", no_args_is_help=True)
console = Console(stderr=True)


@app.command()
@stops_embedded_database
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[
        int, typer.Option(help="Worker processes.", envvar="VASTFOLKET_WORKERS")
    ] = 1,
) -> None:
    """Run the API. Without DATABASE_URL: embedded PostgreSQL with a demo register, and
    (unless VASTFOLKET_SKATTEVERKET_URL is set) a Skatteverket simulator as fallback."""
    settings = Settings()
    try:
        check_serve(settings, host, port)
    except StartupError as error:
        typer.echo(f"Error: {error}", err=True)
        raise typer.Exit(2) from None
    simulator = None
    if not settings.database_url and not settings.skatteverket_url:
        with development_only(SIMULATOR):
            from resolvers.dev.skatteverket.simulator import (
                RunningSimulator,
                Simulator,
                first_free_port,
            )
        simulator = RunningSimulator(Simulator(), port=first_free_port("127.0.0.1", port + 1))
    url = load_for_serve(settings)
    os.environ["DATABASE_URL"] = url
    if simulator is not None:
        simulator.start()
        os.environ["VASTFOLKET_SKATTEVERKET_URL"] = simulator.url
    # The embedded default runs selection orders too: a worker beside the server.
    jobs = (
        None if settings.database_url else subprocess.Popen([sys.executable, "-m", "api", "worker"])
    )
    try:
        _announce(settings, host, port, simulator)
        uvicorn.run(
            "api.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="info",
            access_log=False,
            **settings.server_options(),
        )
    finally:
        if simulator is not None:
            simulator.stop()
        if jobs is not None:
            jobs.terminate()
            jobs.wait(timeout=30)


def _announce(
    settings: Settings, host: str, port: int, simulator: RunningSimulator | None = None
) -> None:
    """Print where GraphiQL is and, on the development key, a token (never wrapped)."""
    address = f"http://{'localhost' if host in ('127.0.0.1', '0.0.0.0') else host}:{port}/graphql"
    lines = ["", "Västfolket API"]
    if settings.jwt_public_keys is None:
        roles = declared_roles()  # so that every example GraphiQL opens runs with it
        token = mint_dev_token(
            settings, subject="developer", tier=Tier.RELATIONS, organisation="1480", roles=roles
        )
        headers = quote(json.dumps({"Authorization": f"Bearer {token}"}))
        lines += [
            f"  GraphiQL (token filled in): {address}?headers={headers}",
            f"  Development token, tier RELATIONS, valid 8 h: {token}",
            f"  Its roles: {', '.join(roles)}; the docs' examples open in GraphiQL's tabs.",
            f"  More tokens: {cli_command()} token --tier BASIC --sub your.name --org 1480",
        ]
    else:
        lines.append(f"  GraphiQL: {address}")
    if simulator is not None:
        lines += [
            f"  Skatteverket simulator (the fallback): {simulator.url}",
            f"  Try the samordningsnummer {simulator.simulator.try_number()}; "
            f"more numbers: {simulator.url}/admin/examples",
        ]
    print("\n".join([*lines, ""]), flush=True)


@app.command("skatteverket-sim")
def skatteverket_sim(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8001,
    latency_ms: Annotated[float, typer.Option(help="Delay added to every answer.")] = 0.0,
    error_rate: Annotated[
        float, typer.Option(help="Share of lookups answered 503 (0-1, exact).")
    ] = 0.0,
    timeout_rate: Annotated[
        float, typer.Option(help="Share of lookups left unanswered for --hang-seconds.")
    ] = 0.0,
    hang_seconds: Annotated[float, typer.Option(help="How long an unanswered lookup hangs.")] = 30,
    seed: Annotated[int, typer.Option(help="Seed of the simulated persons.")] = 1,
    persons: Annotated[int, typer.Option(help="Persons registered outside the region.")] = 200,
    tls_cert: Annotated[
        str | None, typer.Option(help="Serve HTTPS with this PEM certificate.")
    ] = None,
    tls_key: Annotated[str | None, typer.Option(help="Private key of --tls-cert.")] = None,
    client_ca: Annotated[
        str | None, typer.Option(help="Require client certificates signed by this CA (mTLS).")
    ] = None,
) -> None:
    """Run a Skatteverket simulator: the person lookup over HTTP, with knobs."""
    with development_only(SIMULATOR):
        from resolvers.dev.skatteverket import sim_data
        from resolvers.dev.skatteverket.simulator import Knobs, Simulator, Tls
    try:
        knobs = Knobs(latency_ms, error_rate, timeout_rate, hang_seconds).checked()
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    simulator = Simulator(sim_data.build(seed, outside_region=persons), knobs)
    scheme = "https" if tls_cert else "http"
    base = f"{scheme}://{host}:{port}"
    print(f"Skatteverket simulator on {base}", flush=True)
    print(f"  Try the samordningsnummer {simulator.try_number()}", flush=True)
    print(f"  Numbers by kind: {base}/admin/examples; knobs: {base}/admin/knobs", flush=True)
    tls = Tls(tls_cert, tls_key, client_ca) if tls_cert else None
    uvicorn.run(
        simulator.app(),
        host=host,
        port=port,
        log_level="info",
        access_log=False,
        timeout_graceful_shutdown=1,
        **(tls.uvicorn_options() if tls else {}),
    )


@app.command("demo-data")
def demo_data(
    persons: Annotated[int, typer.Option(help="How many persons to generate.")] = 10_000,
    seed: Annotated[
        int, typer.Option(help="Random seed; the same seed gives the same register.")
    ] = 1,
    replace: Annotated[
        bool, typer.Option(help="Replace a register that already has data.")
    ] = False,
    examples: Annotated[
        bool, typer.Option("--examples", help="Print example numbers per kind as JSON.")
    ] = False,
) -> None:
    """Write a deterministic demo register as Navet files and import them, or print
    example numbers from the register."""
    if examples:
        typer.echo(json.dumps(demo_examples(Settings()), indent=2))
    else:
        write_demo(Settings(), persons, seed, replace=replace)


@app.command("import")
def import_files(
    files: Annotated[
        list[Path],
        typer.Argument(help="Navet delivery files.", exists=True, dir_okay=False, readable=True),
    ],
    full: Annotated[
        bool, typer.Option("--full", help="Apply as a full extract, whatever the files say.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Do the work, print the counts, roll it back.")
    ] = False,
    wait: Annotated[
        bool, typer.Option("--wait", help="Wait for another import rather than stop (exit 3).")
    ] = False,
) -> None:
    """Apply Skatteverket's delivery files to the register, one transaction per file."""
    imports.command(files, full=full, dry_run=dry_run, wait=wait)


app.command()(token)
app.command()(keys)
app.command()(worker)
app.add_typer(changes_cli.app, name="changes")
app.add_typer(schema_cli.app, name="schema")


@app.command()
def migrate() -> None:
    """Apply database migrations (the server also does this at start-up)."""
    asyncio.run(prepare(database_url(Settings())))
    console.print("The database schema is current.")


@app.command("export-schema")
def export_schema() -> None:
    """Write the published SDL to schema/schema.graphql."""
    SDL_PATH.write_text(sdl(), encoding="utf-8")
    console.print(f"Wrote {SDL_PATH}")
