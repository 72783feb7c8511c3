"""The embedded local PostGIS cluster under the project's data folder, used when no DATABASE_URL is set.

As root the cluster runs as the `postgres` user, since PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import socket
import subprocess  # noqa: S404 - runs the PostgreSQL server binaries, never a shell
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

SUPERUSER = "kendali"
FALLBACK_ROOT = Path("/var/lib/kendali")
RUNUSER = shutil.which("runuser") or "/usr/sbin/runuser"


class ClusterError(RuntimeError):
    """The local cluster cannot be set up or started; the message says what to do."""


@dataclass(frozen=True, slots=True)
class ClusterState:
    """What is remembered about an initialised cluster."""

    port: int
    password: str
    pgdata: str


def find_bindir(explicit: Path | None = None) -> Path:
    """Return the directory of the PostgreSQL server binaries (highest installed version)."""
    if explicit is not None:
        return explicit
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    if not candidates:
        raise ClusterError(
            "PostgreSQL server binaries not found; install: apt-get install postgresql-15-postgis-3"
        )
    return candidates[-1]


def postgis_installed(bindir: Path) -> bool:
    """Return whether the PostGIS extension is installed for this PostgreSQL."""
    version = bindir.parent.name
    return any(Path(f"/usr/share/postgresql/{version}/extension").glob("postgis.control"))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        # A crashed server's sockets linger in TIME_WAIT; they must not make its own port look taken.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


class LocalCluster:
    """A PostgreSQL cluster owned by this project, on 127.0.0.1 only, password-protected."""

    def __init__(self, data_dir: Path, bindir: Path | None = None) -> None:
        self.home = (data_dir / "pg").resolve()
        self.state_file = self.home / "cluster.json"
        self.bindir = find_bindir(bindir)
        self.as_root = os.geteuid() == 0

    # -- running the server binaries -------------------------------------------------------
    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self.as_root:
            cmd = [RUNUSER, "-u", "postgres", "--", *cmd]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)  # noqa: S603
        if check and result.returncode != 0:
            raise ClusterError(f"{args[0]} failed: {result.stderr.strip() or result.stdout.strip()}")
        return result

    def _chown_to_postgres(self, path: Path) -> None:
        if self.as_root:
            shutil.chown(path, "postgres", "postgres")

    def _postgres_can_use(self, path: Path) -> bool:
        if not self.as_root:
            return True
        probe = subprocess.run(  # noqa: S603
            [RUNUSER, "-u", "postgres", "--", "test", "-w", str(path)], check=False, timeout=30
        )
        return probe.returncode == 0

    # -- state ---------------------------------------------------------------------------
    def state(self) -> ClusterState | None:
        """Return the remembered state, or None if the cluster was never initialised."""
        if not self.state_file.exists():
            return None
        return ClusterState(**json.loads(self.state_file.read_text(encoding="utf-8")))

    def _save(self, state: ClusterState) -> None:
        payload = {"port": state.port, "password": state.password, "pgdata": state.pgdata}
        fd = os.open(self.state_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(payload, out)

    def _pgdata_home(self) -> Path:
        """Pick where PGDATA lives: under the project, or a root-owned fallback postgres can reach."""
        self.home.mkdir(parents=True, exist_ok=True)
        run_dir = self.home / "run"
        run_dir.mkdir(exist_ok=True)
        self._chown_to_postgres(run_dir)
        if self._postgres_can_use(run_dir):
            return run_dir
        digest = hashlib.sha256(str(self.home).encode()).hexdigest()[:12]
        fallback = FALLBACK_ROOT / digest
        fallback.mkdir(parents=True, exist_ok=True)
        self._chown_to_postgres(fallback)
        return fallback

    # -- lifecycle -----------------------------------------------------------------------
    def init(self) -> ClusterState:
        """Create the cluster if it does not exist yet; return its state."""
        existing = self.state()
        if existing is not None and (Path(existing.pgdata) / "PG_VERSION").exists():
            return existing
        if not postgis_installed(self.bindir):
            raise ClusterError("PostGIS is not installed; run: apt-get install -y postgresql-15-postgis-3")
        run_dir = self._pgdata_home()
        pgdata = run_dir / "data"
        password = secrets.token_urlsafe(24)
        pwfile = run_dir / "initpw"
        pwfile.write_text(password, encoding="utf-8")
        self._chown_to_postgres(pwfile)
        try:
            self._run(
                "initdb",
                "-D",
                str(pgdata),
                "-U",
                SUPERUSER,
                f"--pwfile={pwfile}",
                "--auth=scram-sha-256",
                "--encoding=UTF8",
                "--no-locale",
            )
        finally:
            pwfile.unlink(missing_ok=True)
        with (pgdata / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write(
                "\n# kendali embedded cluster\nlisten_addresses = '127.0.0.1'\n"
                "unix_socket_directories = ''\ntimezone = 'UTC'\nshared_buffers = '256MB'\n"
                "max_connections = 200\n"
            )
        state = ClusterState(port=_free_port(), password=password, pgdata=str(pgdata))
        self._save(state)
        return state

    def running(self) -> bool:
        """Return whether the cluster's server is running."""
        state = self.state()
        if state is None or not Path(state.pgdata).exists():
            return False
        return self._run("pg_ctl", "-D", state.pgdata, "status", check=False).returncode == 0

    def up(self, database: str = "kendali") -> str:
        """Initialise and start the cluster if needed, make sure `database` exists; return its URL."""
        state = self.init()
        if not self.running():
            if not _port_free(state.port):
                state = ClusterState(port=_free_port(), password=state.password, pgdata=state.pgdata)
                self._save(state)
            log = Path(state.pgdata).parent / "server.log"
            self._run(
                "pg_ctl",
                "-D",
                state.pgdata,
                "-l",
                str(log),
                "-w",
                "-t",
                "60",
                "-o",
                f"-p {state.port}",
                "start",
            )
        self._wait_ready(state)
        create_database(self.url("postgres"), database)
        return self.url(database)

    def down(self) -> bool:
        """Stop the server if it runs; return whether it was running."""
        state = self.state()
        if state is None or not self.running():
            return False
        self._run("pg_ctl", "-D", state.pgdata, "-m", "fast", "-w", "stop")
        return True

    def url(self, database: str = "kendali") -> str:
        """Return the connection URL of a database in this cluster."""
        state = self.state()
        if state is None:
            raise ClusterError("the local cluster is not initialised; run `kendali db up`")
        return f"postgresql://{SUPERUSER}:{state.password}@127.0.0.1:{state.port}/{database}"

    def _wait_ready(self, state: ClusterState, timeout_s: float = 30) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                with psycopg.connect(self.url("postgres"), connect_timeout=3):
                    return
            except psycopg.OperationalError as exc:
                if time.monotonic() > deadline:
                    raise ClusterError(f"the local cluster did not accept connections: {exc}") from exc
                time.sleep(0.2)


def create_database(admin_url: str, name: str) -> bool:
    """Create database `name` if it is missing; return whether it was created."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists:
            return False
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return True


def drop_database(admin_url: str, name: str) -> None:
    """Drop database `name` if it exists, closing other sessions on it."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
