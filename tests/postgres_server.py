"""A throwaway PostgreSQL server for the tests: initdb into a temporary
directory, started on a private unix socket (no TCP), stopped and deleted at
the end. Debian's `postgresql` package provides the binaries
(scripts/test.sh installs it). As root, the server runs as the `postgres`
OS user, since initdb refuses root.

`PostgresServer.start()` raises `PostgresUnavailable` with the reason when
the binaries are missing or the server does not come up.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


class PostgresUnavailable(RuntimeError):
    pass


def postgres_bin() -> Path | None:
    """FLOWENGINE_PG_BIN if set; else the newest installed PostgreSQL's bin
    directory (Debian layout), or the directory of `pg_ctl` on PATH."""
    chosen = os.environ.get("FLOWENGINE_PG_BIN")
    if chosen:
        path = Path(chosen)
        return path if (path / "pg_ctl").exists() and (path / "initdb").exists() else None
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0)
    for path in reversed(found):
        if (Path(path) / "pg_ctl").exists() and (Path(path) / "initdb").exists():
            return Path(path)
    on_path = shutil.which("pg_ctl")
    return Path(on_path).parent if on_path and shutil.which("initdb") else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    def __init__(self) -> None:
        self.dir: Path | None = None
        self.port = 0
        self.bin: Path | None = None
        self._user: str | None = None
        self._counter = 0

    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        cmd = list(args)
        if self._user is not None:
            cmd = ["runuser", "-u", self._user, "--", *cmd]
        return subprocess.run(cmd, cwd="/", capture_output=True, text=True, timeout=timeout, check=False)

    def start(self) -> None:
        self.bin = postgres_bin()
        if self.bin is None:
            raise PostgresUnavailable(
                "PostgreSQL is not installed (no initdb/pg_ctl in FLOWENGINE_PG_BIN, under "
                "/usr/lib/postgresql/*/bin or on PATH): "
                "install Debian's 'postgresql' package (scripts/test.sh does), "
                "or set FLOWENGINE_SKIP_PG=1 to skip the PostgreSQL tests"
            )
        if os.geteuid() == 0:
            try:
                pw = pwd.getpwnam("postgres")
            except KeyError:
                raise PostgresUnavailable("running as root, and there is no 'postgres' OS user to run the server as") from None
            self._user = "postgres"
        self.dir = Path(tempfile.mkdtemp(prefix="flowengine-pg-", dir="/tmp"))
        if self._user is not None:
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        self.dir.chmod(0o700)
        data = self.dir / "data"
        done = self._run(
            str(self.bin / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
            "--locale=C.UTF-8", "--no-sync",
        )
        if done.returncode != 0:
            raise PostgresUnavailable(f"initdb failed: {done.stdout}{done.stderr}")
        self.port = _free_port()
        options = (
            f"-c listen_addresses='' -k {self.dir} -p {self.port} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        done = self._run(
            str(self.bin / "pg_ctl"), "-D", str(data), "-l", str(self.dir / "server.log"), "-w", "-t", "60",
            "-o", options, "start",
        )
        if done.returncode != 0:
            log = (self.dir / "server.log").read_text(errors="replace") if (self.dir / "server.log").exists() else ""
            raise PostgresUnavailable(f"pg_ctl start failed: {done.stdout}{done.stderr}{log}")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@/{database}?host={self.dir}&port={self.port}"

    def create_database(self) -> str:
        """A new empty database; its URL."""
        import psycopg

        self._counter += 1
        name = f"t{os.getpid()}_{self._counter}"
        with psycopg.connect(host=str(self.dir), port=self.port, user="postgres", dbname="postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        import psycopg

        name = url.split("/")[-1].split("?")[0]
        with contextlib.suppress(Exception), psycopg.connect(
            host=str(self.dir), port=self.port, user="postgres", dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        if self.dir is None:
            return
        if self.bin is not None and (self.dir / "data" / "postmaster.pid").exists():
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "fast", "-w", "-t", "30", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None
