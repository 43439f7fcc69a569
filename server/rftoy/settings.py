"""Every limit and default in one place; each can be set from the environment as RFTOY_<NAME>."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parents[1]
PUBLIC = {"public": True}  # a limit the page is told (ready.limits; `Settings.public_limits`)


def resource_dir(name: str) -> Path:
    """web/ or shaders/: as installed with the package (rftoy/static/<name>), else in the source checkout."""
    installed = PACKAGE_DIR / "static" / name
    return installed if installed.is_dir() else REPO_ROOT / name


class Settings(BaseSettings):
    """Server settings and limits, safe for a public demo by default."""

    model_config = SettingsConfigDict(env_prefix="RFTOY_")

    # network: where the server listens, who may reach it, and the HTTP guards (rftoy.api.http_guard)
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    root_path: str = Field("", description="sub-path the app is served under behind a proxy, e.g. /demo; "
                           "requests may arrive with or without it")
    proxy_headers: bool = Field(True, description="trust X-Forwarded-For/-Proto from forwarded_allow_ips")
    forwarded_allow_ips: str = Field("127.0.0.1", description="proxy addresses whose forwarded headers are "
                                     "trusted (comma-separated, or '*')")
    allowed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="websocket Origins allowed besides the page's own host and loopback; "
                                          "comma-separated in the environment; '*' allows any")
    max_header_bytes: int = Field(32 * 1024, ge=1024, description="HTTP request line and headers, in bytes; "
                                  "bigger ones get 431 and a close")
    header_timeout_s: float = Field(10.0, gt=0, description="an HTTP request's headers must arrive within this "
                                    "many seconds of the connection opening (or of the request's first byte)")
    max_http_connections: int = Field(4096, ge=1, description="open HTTP connections in all (websockets not "
                                      "counted); the next one gets 503 and a close")
    max_http_connections_per_client: int = Field(64, ge=1, description="open HTTP connections per peer address "
                                                 "(trusted proxies exempt); the next one gets 503 and a close")
    max_tracked_clients: int = Field(10_000, ge=1, description="client addresses a per-address token bucket table "
                                     "holds before it forgets the idle ones early (rftoy.api.guard)")

    # where the server finds its page, keeps saved scenes, and runs training
    web_dir: Path = Field(default_factory=lambda: resource_dir("web"), description="the page's files")
    shaders_dir: Path = Field(default_factory=lambda: resource_dir("shaders"), description="the WGSL files")
    database: Annotated[str, BeforeValidator(lambda value: str(value) if isinstance(value, Path) else value)] = Field(
        "rftoy.sqlite3", repr=False, description="where saved scenes live: a SQLite file path (or sqlite:///path, "
        ":memory:), or postgresql://user:password@host:port/dbname for a database several replicas share (the "
        "postgres extra); left out of the settings' repr, which would show the password")
    device: Literal["auto", "cpu", "cuda"] = "auto"
    torch_threads: int = Field(1, ge=0, description="intra-op threads; 1 suits many small concurrent sessions (more "
                               "threads contend on a busy machine; docs/engine.md); 0 leaves torch's default")
    trainer: Literal["batched", "per-session"] = Field(
        "batched", description="'batched': one trainer steps every session's net at once (docs/scaling.md); "
                               "'per-session': each session trains alone in a pool thread")
    batched_workers: int = Field(0, ge=0, description="threads of the batched trainer, each with its share of the "
                                 "sessions (their traces run in parallel, without the GIL); 0 is one fewer than the "
                                 "CPU count, at least one, leaving a core to the event loop and the metrics")
    max_tick_rows: int = Field(16384, ge=1, description="pair rows in one batched training step at most; beyond "
                               "it, dragged sessions go first, then those that waited longest")
    train_workers: int = Field(0, ge=0, description="threads for training chunks with trainer = per-session; 0 is "
                               "the CPU count")

    # messages: what a client may send and how much the server holds for it (the websocket's guards)
    max_message_bytes: int = Field(1 << 20, ge=1024, json_schema_extra=PUBLIC)
    max_messages_per_second: int = Field(200, ge=1, json_schema_extra=PUBLIC, description="token bucket refill: "
                                         "sustained client messages per second (the page sends at most ~60 edits + "
                                         "30 acks)")
    message_burst: int = Field(0, ge=0, json_schema_extra=PUBLIC, description="token bucket size: messages a "
                               "client may send at once; 0 is one second's worth (max_messages_per_second)")
    max_coordinate: float = Field(100.0, gt=0, json_schema_extra=PUBLIC)
    ws_max_queue: int = Field(4, ge=1, description="received messages uvicorn holds per connection before it "
                              "stops reading (each up to max_message_bytes)")
    parse_on_loop_chars: int = Field(16 * 1024, ge=0, description="messages longer than this are parsed and "
                                     "validated in a thread, so a large scene does not hold up other sessions")
    max_unread_replies: int = Field(64, ge=1, description="replies of any kind (errors, pongs, configs, …) queued "
                                    "unsent before a close (flood)")
    max_unread_bytes: int = Field(1 << 20, ge=1024, description="bytes of replies (JSON text; snapshots and "
                                  "metrics keep only their newest) queued unsent before a close (flood)")
    max_http_problems: int = Field(8, ge=1, description="validation problems listed in an HTTP 422 reply")

    # sessions: how many, for how long, and how often a client may ask for costly work
    max_sessions: int = Field(64, ge=1)
    max_sessions_per_client: int = Field(8, ge=1, description="live connections per client address (after "
                                         "forwarded headers); several people behind one NAT share it")
    hello_timeout_s: float = Field(30.0, gt=0, description="a connection that sends no hello is closed after this")
    idle_timeout_s: float = Field(900.0, gt=0, json_schema_extra=PUBLIC, description="a session with no message "
                                  "but ping/ack for this long is closed")
    costly_per_minute: int = Field(60, ge=1, description="reflows, distills, resets and set_configs that make a "
                                   "new net, per client address per minute (sustained); more get error rate_limited")
    costly_burst: int = Field(20, ge=1, description="of those, how many one client address may send at once")

    # scenes and nets: what one session may hold
    max_points: int = Field(4096, ge=1, json_schema_extra=PUBLIC)
    min_points: int = Field(2, ge=1, description="fewest points of a preset scene (the page's points setting)")
    max_width: int = Field(256, ge=1, json_schema_extra=PUBLIC)
    max_depth: int = Field(6, ge=1, json_schema_extra=PUBLIC)
    max_solver_steps: int = Field(200, ge=1, json_schema_extra=PUBLIC)
    max_rounds: int = Field(8, ge=1, json_schema_extra=PUBLIC)
    max_trace_work: float = Field(4e9, gt=0, json_schema_extra=PUBLIC, description="multiply-adds of one trace of "
                                  "every scene point (points x net evaluations x weights), which bounds a snapshot's "
                                  "or reflow's cost")
    teacher_steps: int = Field(8, ge=1, json_schema_extra=PUBLIC, description="rk4 steps that trace a teacher's "
                               "endpoints for reflow")

    # training and snapshots
    snapshot_hz: float = Field(30.0, gt=0, json_schema_extra=PUBLIC)
    busy_snapshot_hz: float = Field(10.0, ge=0, json_schema_extra=PUBLIC, description="a drag whose snapshots come "
                                    "slower than this (a busy server) takes one training step per snapshot, traced "
                                    "by Euler on half the steps, until it ends or the server catches up "
                                    "(rftoy.live.pace); 0 never")
    chunk_ms: float = Field(40.0, gt=0, description="training time between edit checks")
    edit_chunk_ms: float = Field(4.0, ge=0, description="least training after an edit before the snapshot showing "
                                 "it (docs/engine.md, 'Measurements behind the code')")
    converge_window: int = Field(200, ge=1, description="live sessions: steps per convergence window")
    converge_tol: float = Field(0.01, ge=0, description="live sessions: relative loss gain that counts as progress")
    online_ema: float = Field(0.999, ge=0, lt=1, description="online mode: the decay of the weight average that "
                              "snapshots show and reflow learns from (each step's net alone is noisy on fresh "
                              "samples; bench/RESULTS.md); 0 shows the net itself")

    # metrics: the session's figures and the server's own (/api/metrics)
    metrics_max_points: int = Field(512, ge=2, json_schema_extra=PUBLIC, description="W2 and energy distance only "
                                    "up to this many pairs")
    metrics_interval_s: float = Field(0.5, gt=0, description="seconds between metrics messages while training")
    quality_points: int = Field(256, ge=2, description="points of the sample-quality strip per map (W2 by exact "
                                "assignment, O(n³) per map)")
    quality_interval_s: float = Field(2.0, gt=0, description="seconds between sample-quality measurements while a "
                                      "round trains (each round's last one is taken when it converges)")
    metrics_window_s: float = Field(10.0, gt=0, description="window of /api/metrics rates and latency")
    latency_samples: int = Field(2000, ge=1, description="drag → update latencies kept for /api/metrics")
    max_tracked_edits: int = Field(256, ge=1, description="a connection's edits awaiting the snapshot that applies "
                                   "them, for the drag → update latency; older ones are not measured")

    # saved scenes (POST /api/scenes)
    max_scene_bytes: int = Field(512 * 1024, ge=1024, description="size of one saved scene as stored JSON")
    max_saved_scenes: int = Field(10_000, ge=1, description="saved scenes kept; the oldest are pruned beyond it")
    saved_scene_days: float = Field(180.0, ge=0, description="saved scenes expire after this many days; 0 never")
    scene_saves_per_minute: int = Field(30, ge=1, description="scene saves per client address per minute")

    # live sessions (rftoy.live)
    max_pending_ops: int = Field(256, ge=1, description="runs of moves and add/remove edits a session holds "
                                 "unapplied; more are refused (error state) until a snapshot applies them")
    online_ot_block: int = Field(128, ge=1, description="online OT rounds pair each minibatch exactly in blocks "
                                 "of this many points (an exact assignment costs O(n³))")

    def public_limits(self) -> dict[str, Any]:
        """The limits marked public (PUBLIC), by name: what `ready.limits` tells the page."""
        return {name: getattr(self, name) for name, field in type(self).model_fields.items()
                if isinstance(field.json_schema_extra, dict) and field.json_schema_extra.get("public")}

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [origin.strip().rstrip("/") for origin in value.split(",") if origin.strip()]
        return value

    @model_validator(mode="after")
    def _default_burst(self) -> Settings:
        if self.message_burst == 0:
            self.message_burst = self.max_messages_per_second
        return self

    @field_validator("root_path")
    @classmethod
    def _clean_root_path(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and not value.startswith("/"):
            raise ValueError("root_path must start with '/', e.g. /demo")
        return value


@lru_cache
def get_settings() -> Settings:
    return Settings()
