"""compose.yaml's topology on loopback, without Docker: `rftoy serve` replicas as processes, Debian's nginx with
deploy/nginx/rftoy.conf.template, and a throwaway PostgreSQL cluster. Used by tests/hosting/test_topology.py and
bench/scaleout.py; `python deploy/loopback.py` runs it by hand until Ctrl-C.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent / "nginx" / "rftoy.conf.template"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
# The main file around the template: what the nginx image provides, with every path inside `prefix`.
MAIN_CONF = """\
worker_processes 1;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log info;
events {{ worker_connections 4096; }}
http {{
    client_body_temp_path {prefix}/tmp/body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
    include {prefix}/rftoy.conf;
}}
"""


class Unavailable(RuntimeError):
    """nginx or PostgreSQL is not installed here."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def render(template: str, values: dict[str, str]) -> str:
    """What envsubst does with the nginx image's filter: replace ${NAME} for the names given, nothing else."""
    missing = sorted(set(re.findall(r"\$\{([A-Z_]+)\}", template)) - set(values))
    if missing:
        raise ValueError(f"the template needs values for {', '.join(missing)}")
    return re.sub(r"\$\{([A-Z_]+)\}", lambda m: values[m.group(1)], template)


def wait_healthy(url: str, process: subprocess.Popen, log: Path, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with code {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer in {timeout} s:\n{log.read_text()}")


class Replica:
    """One `rftoy serve` process on a loopback port (stderr to a file in `folder`)."""

    def __init__(self, folder: Path, port: int, env: dict[str, str]) -> None:
        self.folder, self.port, self.env = folder, port, env
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> Replica:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.log = self.folder / f"replica-{self.port}.log"
        env = {**os.environ, "RFTOY_DEVICE": "cpu", "RFTOY_DATABASE": str(self.folder / "scenes.sqlite3"),
               **self.env}
        with self.log.open("ab") as stderr:
            self.process = subprocess.Popen([sys.executable, "-m", "rftoy.cli", "serve", "--host", "127.0.0.1",
                                             "--port", str(self.port)], env=env, stdout=stderr, stderr=stderr)
        return self

    def wait(self) -> Replica:
        assert self.process is not None
        wait_healthy(self.url + "/api/health", self.process, self.log)
        return self

    def get(self, path: str) -> dict:
        with urllib.request.urlopen(self.url + path, timeout=10) as response:
            return json.load(response)

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: the replica dies as in a crash, its websockets drop without a close frame."""
        if self.alive:
            self.process.kill()
            self.process.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM: uvicorn's graceful shutdown."""
        if self.alive:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


class Nginx:
    """Debian's nginx with the template, its own prefix in `folder`, listening on a loopback port."""

    def __init__(self, folder: Path, replicas: list[int], *, sockets_per_address: int = 8,
                 request_rate: str = "20r/s", fail_timeout_s: int = 10) -> None:
        if not os.path.exists(NGINX):
            raise Unavailable("nginx not found: apt-get install nginx (scripts/setup.sh --browser does)")
        self.folder, self.port = folder, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        servers = " ".join(f"server 127.0.0.1:{port} max_fails=1 fail_timeout={fail_timeout_s}s;"
                           for port in replicas)
        (folder / "tmp").mkdir(parents=True, exist_ok=True)
        (folder / "rftoy.conf").write_text(render(TEMPLATE.read_text(), {
            "RFTOY_UPSTREAM_SERVERS": servers, "RFTOY_LB_LISTEN": f"127.0.0.1:{self.port}",
            "RFTOY_LB_SOCKETS_PER_ADDRESS": str(sockets_per_address), "RFTOY_LB_REQUEST_RATE": request_rate}))
        self.conf = folder / "nginx.conf"
        self.conf.write_text(MAIN_CONF.format(prefix=folder))
        self.access_log = folder / "access.log"
        self.process: subprocess.Popen | None = None

    def command(self, *args: str) -> list[str]:
        return [NGINX, "-p", str(self.folder), "-c", str(self.conf), "-e", str(self.folder / "error.log"), *args]

    def test_config(self) -> str:
        """`nginx -t` on the rendered config; returns its report."""
        done = subprocess.run(self.command("-t"), capture_output=True, text=True, timeout=30)
        if done.returncode:
            raise RuntimeError(f"nginx -t failed:\n{done.stderr}")
        return done.stderr

    def start(self) -> Nginx:
        self.test_config()
        with self.access_log.open("ab") as out:
            self.process = subprocess.Popen(self.command(), stdout=out, stderr=subprocess.STDOUT)
        wait_healthy(self.url + "/lb-health", self.process, self.folder / "error.log")
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


class Postgres:
    """A throwaway PostgreSQL cluster from Debian's package on a loopback port; `url` is its rftoy database."""

    def __init__(self) -> None:
        bin_dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
        if not bin_dirs or not os.path.exists(f"{bin_dirs[-1]}/initdb"):
            raise Unavailable("PostgreSQL server binaries (initdb, pg_ctl) not found under /usr/lib/postgresql/*/bin:"
                              " apt-get install postgresql (scripts/setup.sh --browser does)")
        self.bin = bin_dirs[-1]
        self.as_owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []  # initdb refuses root
        self.root = Path(tempfile.mkdtemp(prefix="rftoy-topology-postgres-"))
        if self.as_owner:
            shutil.chown(self.root, "postgres", "postgres")
        self.port = free_port()
        self.url = f"postgresql://postgres:unused-secret@127.0.0.1:{self.port}/rftoy"

    def pg(self, *args: str) -> None:
        subprocess.run([*self.as_owner, *args], cwd=self.root, check=True, capture_output=True, timeout=60)

    def start(self) -> Postgres:
        data = str(self.root / "data")
        self.pg(f"{self.bin}/initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C",
                "--no-sync", "--no-instructions")
        self.pg(f"{self.bin}/pg_ctl", "-D", data, "-l", str(self.root / "server.log"), "-w", "-o",
                f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -F", "start")
        self.pg(f"{self.bin}/createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "rftoy")
        return self

    def stop(self) -> None:
        try:
            self.pg(f"{self.bin}/pg_ctl", "-D", str(self.root / "data"), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--postgres", action="store_true", help="share a throwaway PostgreSQL (else SQLite each)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # a `kill` stops everything, as Ctrl-C does
    folder = Path(tempfile.mkdtemp(prefix="rftoy-loopback-"))
    database = Postgres().start() if args.postgres else None
    env = {"RFTOY_DATABASE": database.url} if database else {}
    replicas = [Replica(folder, free_port(), env).start() for _ in range(args.replicas)]
    nginx = None
    try:
        for replica in replicas:
            replica.wait()
        nginx = Nginx(folder, [r.port for r in replicas]).start()
        print(f"rftoy on {nginx.url} ({args.replicas} replicas, logs in {folder}); Ctrl-C stops it", flush=True)
        nginx.process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        if nginx:
            nginx.stop()
        for replica in replicas:
            replica.stop()
        if database:
            database.stop()


if __name__ == "__main__":
    main()
