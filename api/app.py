"""The ASGI application: GraphQL over HTTP (and GraphiQL) and WebSocket, health, readiness."""

from __future__ import annotations

import contextlib
import gc
import logging
import re
from collections.abc import AsyncIterator

import asyncpg
import strawberry
from starlette.applications import Starlette
from starlette.authentication import (
    AuthCredentials,
    AuthenticationBackend,
    AuthenticationError,
    BaseUser,
)
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import InvalidToken, TokenVerifier, ensure_dev_keys
from api.change_listener import listening
from api.documents import Documents
from api.downloads import Downloads
from api.graphiql import VENDOR_PATH, VendorFiles
from api.graphql_http import RETRY_AFTER_SECONDS, GraphQLEndpoint, unauthenticated
from api.guard import Guard, http_error
from api.logs import configure_logging, flush_outages, new_request_id, request_id_var
from api.metrics import EngineMetrics, SkatteverketMetrics, metrics
from api.pools import open_database, readiness
from api.settings import Settings
from api.shutdown import Draining, Shutdown
from api.startup import StartupError, load_manifest, load_public_keys
from api.websocket import GraphQLWebSocket
from resolvers.changes.wakeups import Wakeups
from resolvers.db import Database
from resolvers.domain.access import Viewer
from resolvers.skatteverket.client import ClientOptions, SkatteverketClient
from schema.build import build_schema
from schema.engine import Engine

logger = logging.getLogger("vastfolket.api")


class RequestId:
    """Tag each request with an id (the caller's ``X-Request-ID`` or a new one)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        # A given one is kept in the access log and sent on to Skatteverket: ASCII only
        # (a pattern of \w would take the letters and digits of every script).
        request_id = given if re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", given) else new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        token = request_id_var.set(request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)


class ViewerUser(BaseUser):
    def __init__(self, viewer: Viewer) -> None:
        self.viewer = viewer

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def display_name(self) -> str:
        return self.viewer.subject


class BearerTokens(AuthenticationBackend):
    def __init__(self, verifier: TokenVerifier) -> None:
        self.verifier = verifier

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, BaseUser] | None:
        if conn.scope["type"] == "websocket":  # its token comes in connection_init
            return None
        header = conn.headers.get("authorization")
        if header is None:
            return None
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationError("the Authorization header must be 'Bearer <token>'")
        try:
            viewer = self.verifier.verify(token.strip())
        except InvalidToken as error:
            raise AuthenticationError(str(error)) from None
        return AuthCredentials(["authenticated"]), ViewerUser(viewer)


def _auth_error(conn: HTTPConnection, error: AuthenticationError) -> Response:
    return unauthenticated(f"Not authenticated: {error}.")


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    retry = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if request.app.state.shutdown.begun:
        return JSONResponse({"status": "shutting_down"}, status_code=503, headers=retry)
    states = await readiness(request.app.state.database)
    if any(state != "ok" for state in states.values()):
        return JSONResponse({"status": "unavailable", **states}, 503, headers=retry)
    return JSONResponse({"status": "ready", **states})


def _tune_garbage_collection() -> None:
    """Collect less often, and never scan what start-up built.

    A request allocates thousands of short-lived objects that reference counting
    frees; with the default thresholds the cyclic collector ran many times per
    request and walked every long-lived object (schema, modules) each time. The
    older generations keep their default ratios: raising those too let cyclic
    garbage from requests in flight pile up in the oldest generation (memory grew
    without bound under load).
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 10, 10)


def skatteverket_client(settings: Settings) -> SkatteverketClient | None:
    """The fallback's client, or None when no Skatteverket URL is configured."""
    if not settings.skatteverket_url:
        return None
    options = ClientOptions(
        base_url=settings.skatteverket_url,
        timeout=settings.skatteverket_timeout_seconds,
        client_cert=settings.skatteverket_client_cert,
        client_key=settings.skatteverket_client_key,
        ca_bundle=settings.skatteverket_ca_bundle,
        failure_threshold=settings.skatteverket_failure_threshold,
        cooldown=settings.skatteverket_cooldown_seconds,
        cache_seconds=settings.skatteverket_cache_seconds,
        cache_size=settings.skatteverket_cache_size,
    )
    return SkatteverketClient(options, SkatteverketMetrics())


def create_app(
    settings: Settings | None = None,
    *,
    pool: asyncpg.Pool | None = None,
    read_pool: asyncpg.Pool | None = None,
    schema: strawberry.Schema | None = None,
) -> Starlette:
    """Build the app. Without ``pool`` (the primary) it connects to the settings'
    databases at start-up; lookups read from ``read_pool`` (default: ``pool``).
    ``schema`` is the register's (``build_schema``) unless another is given.

    The Skatteverket client is made at start-up in either case (lifespan), so that it
    binds the serving event loop and is closed at shutdown.
    """
    settings = settings or Settings()
    configure_logging(settings.log_format, settings.log_level)
    if settings.jwt_public_keys is None:
        ensure_dev_keys(settings)
        logger.warning("verifying tokens with the development key in %s", settings.data_dir)
    try:
        if pool is None and not settings.database_url:
            raise StartupError("DATABASE_URL is not set: name the PostgreSQL to serve")
        verifier = TokenVerifier(settings, load_public_keys(settings))
        trusted = load_manifest(settings)
    except StartupError as error:
        # One line, in the configured format, instead of a traceback from the factory.
        logger.critical("Cannot start: %s", error)
        raise SystemExit(3) from None

    shutdown = Shutdown(settings.shutdown_drain_seconds)
    engine = Engine(
        schema or build_schema(),
        settings.limits(),
        stock=settings.engine == "stock",
        observer=EngineMetrics(),
    )
    http = GraphQLEndpoint(
        engine,
        documents=Documents(engine, trusted, trusted=settings.trusted_documents),
        access_log_timeout=settings.access_log_timeout_seconds,
        example_from_register=settings.jwt_public_keys is None,
        selections=settings.selection_policy(),
    )
    # The subscriptions share the HTTP side's pipeline (and its access log writer).
    websocket = GraphQLWebSocket(http.pipeline, verifier, shutdown, settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.skatteverket = skatteverket_client(settings)
        shutdown.install()
        try:
            if pool is not None:
                yield
                return
            async with _own_database(app, settings):
                assert settings.database_url
                async with listening(settings.database_url, app.state.wakeups):
                    yield
        finally:
            shutdown.uninstall()
            flush_outages()
            if app.state.skatteverket is not None:
                await app.state.skatteverket.close()
            app.state.skatteverket = None

    app = Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics),
            Route("/graphql", http, methods=["GET", "POST"]),
            Route(
                "/selections/{order}/file",
                Downloads(
                    settings.selection_files,
                    access_log_timeout=settings.access_log_timeout_seconds,
                ).serve,
            ),
            WebSocketRoute("/graphql", websocket),
            Mount(VENDOR_PATH, VendorFiles()),
        ],
        middleware=[
            Middleware(RequestId),
            Middleware(Draining, shutdown=shutdown),
            Middleware(Guard, limits=settings.request_limits()),
            Middleware(
                AuthenticationMiddleware, backend=BearerTokens(verifier), on_error=_auth_error
            ),
        ],
        exception_handlers={HTTPException: http_error},
        lifespan=lifespan,
    )
    app.state.database = None if pool is None else Database(pool, read_pool)
    app.state.shutdown = shutdown
    app.state.wakeups = Wakeups(settings.feed_tick_seconds)  # this worker's subscriptions
    app.state.skatteverket = None  # until start-up
    return app


@contextlib.asynccontextmanager
async def _own_database(app: Starlette, settings: Settings) -> AsyncIterator[None]:
    _tune_garbage_collection()
    app.state.database = await open_database(settings)
    try:
        yield
    finally:
        await app.state.database.close()
