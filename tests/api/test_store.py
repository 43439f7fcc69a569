"""The saved-scene store's contract on every backend: SQLite (file and memory) and a real PostgreSQL server.

The PostgreSQL server is a throwaway cluster from Debian's `postgresql` package (initdb and pg_ctl under
/usr/lib/postgresql/*/bin), started once per test session. Without it these tests fail when CI is set and are
skipped otherwise.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest
from fastapi.testclient import TestClient
from live_server import server_settings
from rftoy.api import store as store_module
from rftoy.api.app import create_app
from rftoy.api.store import SceneStore, redact_password
from rftoy.settings import Settings
from served_process import free_port

BODY = {"scene": {"kind": "points", "x0": [[0.5, -0.25]], "x1": [[1.0, 2.0]]}, "config": {"width": 16, "name": "é"}}


def missing(message: str) -> NoReturn:
    """Fail in CI, where PostgreSQL must be tested; skip on a developer's machine without it."""
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@dataclass(frozen=True)
class Cluster:
    """A throwaway PostgreSQL server: the URL of its test database, and a restart (every connection is lost)."""

    url: str
    pg_ctl: Callable[..., None]
    options: str

    def restart(self) -> None:
        self.pg_ctl("-m", "immediate", "restart")

    def stop(self) -> None:
        self.pg_ctl("-m", "immediate", "stop")

    def start(self) -> None:
        self.pg_ctl("-o", self.options, "start")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Cluster]:
    """A database on a PostgreSQL server of its own (127.0.0.1, a free port), removed at the end."""
    bin_dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    if not bin_dirs or not os.path.exists(f"{bin_dirs[-1]}/initdb"):
        missing("PostgreSQL server binaries (initdb, pg_ctl) not found under /usr/lib/postgresql/*/bin: "
                "apt-get install postgresql (scripts/setup.sh --browser does)")
    try:
        import psycopg
    except ImportError:
        missing("psycopg is not installed: pip install -e '.[dev]'")
    bin_dir = bin_dirs[-1]
    as_owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []  # initdb refuses root
    root = Path(tempfile.mkdtemp(prefix="rftoy-postgres-"))
    if as_owner:
        shutil.chown(root, "postgres", "postgres")
    port = free_port()

    def pg(*args: str) -> None:
        subprocess.run([*as_owner, *args], cwd=root, check=True, capture_output=True, timeout=60)

    try:
        pg(f"{bin_dir}/initdb", "-D", str(root / "data"), "-U", "postgres", "-A", "trust", "-E", "UTF8",
           "--locale=C", "--no-sync", "--no-instructions")
        options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -F"
        pg(f"{bin_dir}/pg_ctl", "-D", str(root / "data"), "-l", str(root / "server.log"), "-w", "-o", options,
           "start")
    except subprocess.CalledProcessError as error:
        log = root / "server.log"
        shutil.rmtree(root, ignore_errors=True)
        pytest.fail(f"could not start PostgreSQL: {error}\n{error.stderr.decode()}"
                    f"{log.read_text() if log.exists() else ''}", pytrace=False)
    try:
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres", autocommit=True) as admin:
            admin.execute("CREATE DATABASE rftoy_test")
        pg_ctl = [f"{bin_dir}/pg_ctl", "-D", str(root / "data"), "-l", str(root / "server.log"), "-w"]
        yield Cluster(f"postgresql://postgres:unused-secret@127.0.0.1:{port}/rftoy_test",
                      lambda *args: pg(*pg_ctl, *args), options)
    finally:
        pg(f"{bin_dir}/pg_ctl", "-D", str(root / "data"), "-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: Cluster) -> Iterator[str]:
    """The PostgreSQL database, emptied after each test."""
    import psycopg

    yield postgres_server.url
    with psycopg.connect(postgres_server.url, autocommit=True) as connection:
        connection.execute("DROP TABLE IF EXISTS scenes")


SHARED_KINDS = ["path", "sqlite-url", "postgresql"]


def database_of_kind(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if kind == "postgresql":
        return request.getfixturevalue("postgres_url")
    path = tmp_path / "nested" / "scenes.sqlite3"
    return {"path": str(path), "sqlite-url": f"sqlite:///{path}"}.get(kind, kind)


@pytest.fixture(params=SHARED_KINDS)
def shared_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database that outlives a store and that several stores (replicas) can open."""
    return database_of_kind(request.param, request, tmp_path)


@pytest.fixture(params=[*SHARED_KINDS, ":memory:", "sqlite:///:memory:"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return database_of_kind(request.param, request, tmp_path)


@pytest.fixture
def open_store() -> Iterator[Callable[..., SceneStore]]:
    """Opens stores and closes them all after the test."""
    opened: list[SceneStore] = []

    def open_one(database: str, max_scenes: int | None = None, max_age_s: float | None = None) -> SceneStore:
        opened.append(SceneStore(database, max_scenes, max_age_s))
        return opened[-1]

    yield open_one
    for scene_store in opened:
        scene_store.close()


def test_round_trip(database: str, open_store: Callable[..., SceneStore]) -> None:
    scenes = open_store(database)
    before = time.time()
    first, second = scenes.save(BODY), scenes.save(SceneStore.encode({"scene": {"kind": "preset"}}))
    assert first != second and len(first) >= 10 and first.replace("-", "").replace("_", "").isalnum()
    loaded = scenes.load(first)
    assert loaded is not None and loaded == {"id": first, "created": loaded["created"], **BODY}
    assert before <= loaded["created"] <= time.time()
    assert scenes.load(second) == {"id": second, "created": scenes.load(second)["created"], "scene": {"kind": "preset"}}
    assert scenes.load("unknown") is None and scenes.count() == 2


def test_saves_beyond_the_count_prune_the_oldest(database: str, open_store: Callable[..., SceneStore]) -> None:
    scenes = open_store(database, max_scenes=3)
    ids = [scenes.save({"scene": {"n": n}}) for n in range(5)]
    assert [scenes.load(i) is not None for i in ids] == [False, False, True, True, True]
    assert scenes.count() == 3


def test_expired_scenes_are_never_loaded_and_are_pruned(database: str, open_store: Callable[..., SceneStore]) -> None:
    scenes = open_store(database, max_age_s=0.1)
    old = scenes.save(BODY)
    time.sleep(0.15)
    assert scenes.load(old) is None
    new = scenes.save(BODY)
    assert scenes.load(new) is not None and scenes.count() == 1


def test_a_duplicate_id_is_drawn_again(database: str, open_store: Callable[..., SceneStore],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    scenes = open_store(database)
    draws = iter(["same-id", "same-id", "same-id", "other-id"])
    monkeypatch.setattr(store_module.secrets, "token_urlsafe", lambda _: next(draws))
    assert scenes.save({"scene": 1}) == "same-id"
    assert scenes.save({"scene": 2}) == "other-id"
    assert scenes.load("same-id")["scene"] == 1 and scenes.load("other-id")["scene"] == 2


def test_concurrent_saves(database: str, open_store: Callable[..., SceneStore]) -> None:
    scenes = open_store(database, max_scenes=1000)
    with ThreadPoolExecutor(4) as pool:
        ids = list(pool.map(lambda n: scenes.save({"scene": n}), range(40)))
    assert len(set(ids)) == 40 and scenes.count() == 40 and all(scenes.load(i) for i in ids)


def test_replicas_share_the_database(shared_database: str, open_store: Callable[..., SceneStore]) -> None:
    first, second = open_store(shared_database, max_scenes=2), open_store(shared_database, max_scenes=2)
    ids = [first.save({"scene": 1}), second.save({"scene": 2})]
    assert [second.load(i)["scene"] for i in ids] == [1, 2] and first.load(ids[1])["scene"] == 2
    third = first.save({"scene": 3})
    assert second.load(ids[0]) is None and second.load(third)["scene"] == 3 and second.count() == 2


def test_replicas_saving_at_once_keep_the_count(shared_database: str, open_store: Callable[..., SceneStore]) -> None:
    replicas = [open_store(shared_database, max_scenes=5) for _ in range(2)]
    with ThreadPoolExecutor(4) as pool:
        ids = list(pool.map(lambda n: replicas[n % 2].save({"scene": n}), range(40)))
    assert len(set(ids)) == 40 and replicas[0].count() == replicas[1].count() == 5


def test_scenes_outlive_the_store_and_expire_on_open(shared_database: str,
                                                     open_store: Callable[..., SceneStore]) -> None:
    scene_id = open_store(shared_database).save(BODY)
    assert open_store(shared_database).load(scene_id)["scene"] == BODY["scene"]
    time.sleep(0.05)
    assert open_store(shared_database, max_age_s=0.01).count() == 0


def test_two_app_replicas_share_saved_scenes(postgres_url: str, tmp_path: Path) -> None:
    replicas = [TestClient(create_app(server_settings(tmp_path, database=postgres_url))) for _ in range(2)]
    with replicas[0] as first, replicas[1] as second:
        scene_id = first.post("/api/scenes", json={"scene": {"kind": "preset", "source": "square"}}).json()["id"]
        saved = first.get(f"/api/scenes/{scene_id}").json()
        assert saved["scene"]["source"] == "square" and second.get(f"/api/scenes/{scene_id}").json() == saved
        assert second.get("/api/metrics").json()["saved_scenes"] == 1


def test_saves_resume_after_the_database_restarts(postgres_server: Cluster, postgres_url: str,
                                                  tmp_path: Path) -> None:
    """Every connection is lost when the PostgreSQL server restarts; the store reopens its own and goes on."""
    with TestClient(create_app(server_settings(tmp_path, database=postgres_url))) as client:
        before = client.post("/api/scenes", json={"scene": {"kind": "preset", "source": "square"}}).json()["id"]
        postgres_server.restart()
        after = client.post("/api/scenes", json={"scene": {"kind": "preset", "source": "heart"}})
        assert after.status_code == 200, after.text
        assert client.get(f"/api/scenes/{before}").json()["scene"]["source"] == "square"
        assert client.get("/api/metrics").json()["saved_scenes"] == 2


def test_a_database_that_is_down_gets_503_and_nothing_breaks(postgres_server: Cluster, postgres_url: str,
                                                              tmp_path: Path) -> None:
    with TestClient(create_app(server_settings(tmp_path, database=postgres_url))) as client:
        postgres_server.stop()
        try:
            refused = client.post("/api/scenes", json={"scene": {"kind": "preset"}})
            assert refused.status_code == 503 and refused.headers["retry-after"] == "5"
            assert client.get("/api/scenes/abc").status_code == 503
            assert client.get("/api/health").status_code == 200
        finally:
            postgres_server.start()
        assert client.post("/api/scenes", json={"scene": {"kind": "preset"}}).status_code == 200


def test_sqlite_url_forms(tmp_path: Path, open_store: Callable[..., SceneStore], monkeypatch: pytest.MonkeyPatch
                          ) -> None:
    monkeypatch.chdir(tmp_path)
    open_store("sqlite:///relative/scenes.sqlite3").save(BODY)
    open_store(f"sqlite:///{tmp_path}/absolute.sqlite3").save(BODY)
    open_store(tmp_path / "from-a-path.sqlite3").save(BODY)
    assert sorted(p.name for p in tmp_path.rglob("*.sqlite3")) == ["absolute.sqlite3", "from-a-path.sqlite3",
                                                                    "scenes.sqlite3"]
    assert (tmp_path / "relative" / "scenes.sqlite3").exists()


@pytest.mark.parametrize(("database", "words"), [
    ("mysql://user:secret@host/db", "unsupported database URL scheme 'mysql'"),
    ("sqlite://host/scenes.sqlite3", "sqlite:///relative/path"),
    ("sqlite:///", "sqlite:///relative/path"),
])
def test_bad_urls_are_refused_clearly(database: str, words: str) -> None:
    with pytest.raises(ValueError, match="URL") as refused:
        SceneStore(database)
    assert words in str(refused.value) and "secret" not in str(refused.value)


def test_postgresql_without_psycopg_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(RuntimeError, match=r"needs psycopg: pip install 'rftoy\[postgres\]'") as refused:
        SceneStore("postgres://user:secret@db.example:5432/rftoy")
    assert "postgres://user:***@db.example:5432/rftoy" in str(refused.value) and "secret" not in str(refused.value)


def test_passwords_are_redacted(open_store: Callable[..., SceneStore]) -> None:
    assert redact_password("postgresql://rftoy:s3cret@db:5432/rftoy") == "postgresql://rftoy:***@db:5432/rftoy"
    assert redact_password("postgresql://db/rftoy?user=a&password=s3cret&sslmode=require") == \
        "postgresql://db/rftoy?user=a&password=***&sslmode=require"
    assert redact_password("postgresql://rftoy@db/rftoy") == "postgresql://rftoy@db/rftoy"
    assert redact_password(Path("data/rftoy.sqlite3")) == "data/rftoy.sqlite3"
    assert repr(open_store(":memory:")) == "SceneStore(':memory:')"


def test_a_store_shows_its_database_without_the_password(postgres_url: str,
                                                         open_store: Callable[..., SceneStore]) -> None:
    shown = repr(open_store(postgres_url))
    assert "unused-secret" in postgres_url and "unused-secret" not in shown and ":***@127.0.0.1:" in shown


def test_the_setting_takes_a_path_or_a_url_and_hides_the_password(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings(database=Path("data/scenes.sqlite3")).database == "data/scenes.sqlite3"
    monkeypatch.setenv("RFTOY_DATABASE", "postgresql://rftoy:s3cret@db/rftoy")
    settings = Settings()
    assert settings.database == "postgresql://rftoy:s3cret@db/rftoy" and "s3cret" not in repr(settings)
