"""All settings, read from the environment (prefix ``VASTFOLKET_``, plus ``DATABASE_URL``)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, NamedTuple

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from resolvers.selections.orders import Policy
from resolvers.selections.price import DEFAULT_PRICES, Band, PriceList
from schema.context import Limits

# Only asymmetric algorithms: a shared secret would let every verifier mint tokens.
ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)


class RequestLimits(NamedTuple):
    """Bytes one request may bring: its body (or query string), URL and headers."""

    body: int
    url: int
    headers: int


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VASTFOLKET_", extra="ignore")

    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "VASTFOLKET_DATABASE_URL"),
        description="PostgreSQL 14+ to use; without it an embedded server is started.",
    )
    database_replica_url: str | None = Field(
        default=None,
        description="A read replica of DATABASE_URL for lookups; the access log (and its "
        "search), migrations and every write stay on DATABASE_URL.",
    )
    data_dir: Path = Field(
        default=Path(".vastfolket"),
        description="Embedded PostgreSQL data, the development signing key and the demo's "
        "Navet files.",
    )
    database_name: str = Field(default="vastfolket", description="Database on the embedded server.")
    demo_persons: int | None = Field(
        default=None,
        ge=0,
        description="Demo persons `serve` loads into an empty register; default: 10 000 on "
        "the embedded server, none with DATABASE_URL (a real register is never filled unasked).",
    )
    region_county: str = Field(
        default="14",
        pattern=r"^[0-9]{2}$",
        description="The county (LanKod) the register covers: a person an import finds "
        "registered in another county has left the region.",
    )
    change_retention_days: int = Field(
        default=90,
        ge=1,
        description="Change events older than this many days are pruned, a whole import "
        "at a time; a change feed cursor from before them is expired.",
    )
    pool_min_size: int = Field(default=2, ge=1)
    pool_max_size: int = Field(default=20, ge=1)

    jwt_public_keys: Path | None = Field(
        default=None,
        description="PEM public key or JWKS file that signs tokens; default: the development key.",
    )
    jwt_issuer: str = "vastfolket-dev"
    jwt_audience: str = "vastfolket-api"
    jwt_algorithms: list[str] = Field(default_factory=lambda: ["ES256", "RS256", "EdDSA"])
    jwt_leeway_seconds: int = Field(default=30, ge=0, le=300)

    max_page_size: int = Field(default=500, ge=1)
    search_max_matches: int = Field(
        default=200, ge=1, description="A name search matching more persons is refused."
    )

    access_log_timeout_seconds: float = Field(
        default=2.0,
        gt=0,
        le=30,
        description="How long writing a request's access log rows may take; past it the "
        "answer is withheld (AUDIT_UNAVAILABLE).",
    )

    skatteverket_url: str | None = Field(
        default=None,
        description="Base URL of Skatteverket's person lookup; without it there is no "
        "fallback (except under `vastfolket serve`, which starts the simulator).",
    )
    skatteverket_client_cert: Path | None = Field(
        default=None, description="PEM client certificate presented to Skatteverket (mTLS)."
    )
    skatteverket_client_key: Path | None = Field(
        default=None, description="PEM private key of the client certificate."
    )
    skatteverket_ca_bundle: Path | None = Field(
        default=None, description="PEM CA bundle to verify Skatteverket with; default: system."
    )
    skatteverket_timeout_seconds: float = Field(
        default=2.0, gt=0, le=30, description="Deadline of one lookup, retry included."
    )
    skatteverket_failure_threshold: int = Field(
        default=5, ge=1, description="Failures in a row that open the circuit."
    )
    skatteverket_cooldown_seconds: float = Field(
        default=30.0, ge=0, description="How long an open circuit refuses calls."
    )
    skatteverket_cache_seconds: float = Field(
        default=300.0, ge=0, description="How long an answer is reused; 0 turns the cache off."
    )
    skatteverket_cache_size: int = Field(
        default=10_000, ge=0, description="Most answers kept in the cache."
    )

    # Limits on one request, checked before any of it runs (see docs/errors.md).
    max_body_bytes: int = Field(
        default=65_536, ge=1024, description="Larger request bodies are refused (HTTP 413)."
    )
    max_url_bytes: int = Field(
        default=65_535,
        ge=1024,
        le=65_535,  # httptools, the HTTP parser, reads no longer URL
        description="Longer URLs (path and query string) are refused (HTTP 414).",
    )
    max_header_bytes: int = Field(
        default=16_384,
        ge=1024,
        description="Larger request headers (names and values together) are refused (HTTP 431).",
    )
    max_query_depth: int = Field(default=10, ge=2, description="Fields nested in fields.")
    max_query_aliases: int = Field(default=50, ge=0, description="Aliased fields per query.")
    max_query_tokens: int = Field(
        default=2000, ge=100, description="Lexical tokens (and, apart, comments) per query."
    )
    max_query_cost: int = Field(
        default=50_000, ge=1, description="Objects an answer may hold, estimated beforehand."
    )
    max_query_selections: int = Field(
        default=300, ge=10, description="Fields, fragment spreads and inline fragments per query."
    )

    # Slow clients and stopping (see docs/operations.md#stopping-and-slow-clients).
    client_timeout_seconds: float = Field(
        default=10.0, gt=0, le=300,
        description="A request must arrive in full, and a response be read, within this; "
        "a slower client is disconnected.",
    )  # fmt: skip
    keep_alive_seconds: float = Field(
        default=5.0, gt=0, le=300, description="An idle keep-alive connection is closed after this."
    )
    max_connections: int = Field(
        default=900, ge=1,
        description="Open connections (or requests) per worker past which a new request "
        "is refused at once (uvicorn's 503).",
    )  # fmt: skip
    shutdown_drain_seconds: float = Field(
        default=2.0, ge=0, le=120,
        description="After SIGTERM, how long the port stays open answering readiness 503 and "
        "new requests SHUTTING_DOWN, so that a load balancer stops sending first.",
    )  # fmt: skip
    graceful_shutdown_seconds: float = Field(
        default=5.0, gt=0, le=300,
        description="Then how long requests in flight may take to finish; past it they "
        "are cancelled.",
    )  # fmt: skip

    # Subscriptions over WebSocket (see docs/changes.md#subscribing-over-websocket).
    ws_max_subscriptions: int = Field(
        default=10, ge=1,
        description="Operations one WebSocket connection may run at once; one more is "
        "refused (TOO_MANY_SUBSCRIPTIONS).",
    )  # fmt: skip
    ws_max_connections: int = Field(
        default=400, ge=1,
        description="WebSocket connections one worker holds open; one more is closed with "
        "1013 (try again later), so that the rest of max_connections stays for HTTP and "
        "its health checks.",
    )  # fmt: skip
    ws_max_connections_per_caller: int = Field(
        default=5, ge=1,
        description="WebSocket connections one caller (the token's subject and "
        "organisation) may hold open on one worker; one more is closed with 4430.",
    )  # fmt: skip
    ws_send_timeout_seconds: float = Field(
        default=10.0, gt=0, le=300,
        description="A message a subscriber does not take within this (it reads nothing "
        "and its buffers are full) closes its connection with 4499: resume from the last "
        "cursor received.",
    )  # fmt: skip
    ws_per_message_deflate: bool = Field(
        default=True,
        description="Compress WebSocket messages (permessage-deflate, when the client "
        "offers it): a change event's message shrinks about 7 times, for 4-5 µs more "
        "of the server's CPU per message (a fifth) and about 40 KiB per connection.",
    )  # fmt: skip
    feed_tick_seconds: float = Field(
        default=1.0, gt=0, le=60,
        description="How often subscriptions read the feed when no notification came.",
    )  # fmt: skip

    # Larger selections (see docs/selections.md).
    selection_files_dir: Path | None = Field(
        default=None,
        description="Where selection files are kept, shared by every API worker and job "
        "worker; default: `selections` in the data directory.",
    )
    selection_handling_fee: Decimal = Field(
        default=DEFAULT_PRICES.handling_fee,
        ge=0,
        description="Price of an order, in kronor, before rows.",
    )
    selection_price_per_row: Decimal = Field(
        default=DEFAULT_PRICES.per_row, ge=0, description="Price of a row, in kronor."
    )
    selection_price_bands: list[tuple[int, Decimal]] = Field(
        default_factory=lambda: [(band.above, band.per_row) for band in DEFAULT_PRICES.bands],
        description="Lower prices by volume, as JSON [[rows, price], ...]: the rows beyond "
        "`rows` cost `price` each.",
    )
    selection_max_active_orders: int = Field(
        default=Policy().max_active_per_organisation, ge=1,
        description="Orders one organisation may have queued or running; one more is "
        "refused (TOO_MANY_ORDERS).",
    )  # fmt: skip
    selection_file_days: int = Field(
        default=Policy().file_days,
        ge=1,
        description="Days a selection's file can be downloaded (then 410 Gone).",
    )
    selection_heartbeat_seconds: float = Field(
        default=30.0, gt=0, le=3600,
        description="A running order whose worker has not beaten its heartbeat for this "
        "long (the worker died) is taken up again by another worker.",
    )  # fmt: skip

    # Trusted documents (see docs/queries.md#trusted-documents).
    documents: Literal["any", "trusted"] | None = Field(
        default=None,
        description="Which documents run: 'trusted' only the manifest's (by id, or by "
        "their exact text), 'any' text as well (GraphiQL, ad-hoc queries). Default: "
        "'trusted' where tokens are verified with VASTFOLKET_JWT_PUBLIC_KEYS (production), "
        "'any' on the development key.",
    )
    document_manifest: Path | None = Field(
        default=None,
        description="Apollo's persisted-query manifest (JSON) of the trusted documents, or "
        "a directory of such manifests (*.json, one per client's build); required in "
        "trusted mode, optional in 'any' (its documents then run by id too).",
    )

    engine: Literal["fast", "stock"] = Field(
        default="fast",
        description="How queries execute: 'fast' (plain fields read directly, compiled "
        "readers) or 'stock' (graphql-core's own execution, slower; the reference the fast "
        "path is tested against). Both answer and log alike.",
    )

    log_format: Literal["text", "json"] = Field(
        default="text", description="'json' for JSON lines (production), 'text' for a terminal."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @field_validator("jwt_algorithms")
    @classmethod
    def _only_asymmetric(cls, value: list[str]) -> list[str]:
        bad = sorted(set(value) - ASYMMETRIC_ALGORITHMS)
        if bad:
            raise ValueError(f"only asymmetric JWT algorithms are allowed, not {bad}")
        return value

    def limits(self) -> Limits:
        return Limits(
            max_page_size=self.max_page_size,
            search_max_matches=self.search_max_matches,
            max_depth=self.max_query_depth,
            max_aliases=self.max_query_aliases,
            max_tokens=self.max_query_tokens,
            max_cost=self.max_query_cost,
            max_selections=self.max_query_selections,
        )

    def request_limits(self) -> RequestLimits:
        return RequestLimits(self.max_body_bytes, self.max_url_bytes, self.max_header_bytes)

    @property
    def trusted_documents(self) -> bool:
        """Only the manifest's documents run: asked, or by default in production (where
        tokens are verified with configured keys, not the development key)."""
        if self.documents is not None:
            return self.documents == "trusted"
        return self.jwt_public_keys is not None

    @property
    def demo_register_size(self) -> int:
        if self.demo_persons is not None:
            return self.demo_persons
        return 0 if self.database_url else 10_000

    def server_options(self) -> dict[str, Any]:
        """uvicorn's options for these settings (plain uvicorn: see docs/operations.md)."""
        return {
            "http": "api.server:HttpProtocol",
            "ws": "api.websocket_protocol:WebSocketProtocol",
            "ws_max_size": self.max_body_bytes,
            "ws_per_message_deflate": self.ws_per_message_deflate,
            "timeout_keep_alive": self.keep_alive_seconds,
            "limit_concurrency": self.max_connections,
            "timeout_graceful_shutdown": self.graceful_shutdown_seconds,
        }

    def selection_policy(self) -> Policy:
        bands = tuple(Band(rows, price) for rows, price in self.selection_price_bands)
        prices = PriceList(self.selection_handling_fee, self.selection_price_per_row, bands)
        return Policy(prices, self.selection_max_active_orders, self.selection_file_days)

    @property
    def selection_files(self) -> Path:
        return self.selection_files_dir or self.data_dir / "selections"

    @property
    def dev_private_key_path(self) -> Path:
        return self.data_dir / "dev-signing-key.pem"

    @property
    def dev_public_keys_path(self) -> Path:
        return self.data_dir / "dev-public-keys.jwks.json"

    @property
    def public_keys_path(self) -> Path:
        return self.jwt_public_keys or self.dev_public_keys_path
