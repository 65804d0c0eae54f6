"""Fixtures for the PostgreSQL replica and outage suite (see e2e/replicas/run.sh).

The process handling (free loopback ports, a bounded health wait, SIGTERM then SIGKILL, the CLI,
API keys never in messages or reprs) is shared with e2e/compat: e2e/support/switchboard_testkit.py.

Environment:
  SWITCHBOARD_BIN               the switchboard binary (default: <repo>/.build/debug/switchboard)
  SWITCHBOARD_DATABASE_URL      a postgres:// URL. The replica tests create a fresh database on
                                that server for the session and drop it at the end. When it is
                                not a postgres URL every test here is skipped...
  SWITCHBOARD_REQUIRE_POSTGRES  ...unless this is 1: then they fail (CI sets it).

The outage test never touches that server: it starts a private cluster of its own with
scripts/postgres-up.sh (its own port and temporary data directory) and stops it at the end.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, List, Optional

import pytest

_SUPPORT = str(Path(__file__).resolve().parents[1] / "support")
if _SUPPORT not in sys.path:
    sys.path.insert(0, _SUPPORT)

from switchboard_testkit import (  # noqa: E402,F401 (psql and with_database: test_copy.py imports them from here)
    REPO_ROOT,
    FigureLog,
    SwitchboardServer,
    Workspace,
    find_switchboard_bin,
    free_loopback_port,
    is_postgres_url,
    psql,
    with_database,
)

SCRIPTS = REPO_ROOT / "scripts"

PG_SCRIPT_TIMEOUT_S = 120.0


# ----- helpers ------------------------------------------------------------------------------


def require_postgres(reason: str) -> None:
    """Skip the test, or fail it when SWITCHBOARD_REQUIRE_POSTGRES=1 (CI)."""
    if os.environ.get("SWITCHBOARD_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"SWITCHBOARD_REQUIRE_POSTGRES=1 but {reason}", pytrace=False)
    pytest.skip(reason)


# ----- a private PostgreSQL cluster (outage test) ------------------------------------------


class PrivateCluster:
    """A PostgreSQL cluster of our own, via scripts/postgres-up.sh / postgres-down.sh."""

    def __init__(self, directory: Path, port: int):
        self.directory = directory
        self.port = port
        self.env = dict(os.environ)
        self.env["SWITCHBOARD_PG_DIR"] = str(directory)
        self.env["SWITCHBOARD_PG_PORT"] = str(port)
        self.url: Optional[str] = None

    def up(self) -> str:
        res = subprocess.run(
            [str(SCRIPTS / "postgres-up.sh")],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=PG_SCRIPT_TIMEOUT_S,
        )
        if res.returncode != 0:
            raise RuntimeError(f"postgres-up.sh failed ({res.returncode}):\n{res.stderr[-3000:]}")
        lines = res.stdout.strip().splitlines()
        if not lines or not is_postgres_url(lines[-1]):
            raise RuntimeError(f"postgres-up.sh printed no URL: {res.stdout[-500:]!r}")
        # The throwaway server has no TLS: say so instead of negotiating.
        self.url = lines[-1] + "?sslmode=disable"
        return self.url

    def down(self, mode: str = "fast") -> None:
        env = dict(self.env, SWITCHBOARD_PG_STOP_MODE=mode)
        res = subprocess.run(
            [str(SCRIPTS / "postgres-down.sh")],
            env=env,
            capture_output=True,
            text=True,
            timeout=PG_SCRIPT_TIMEOUT_S,
        )
        if res.returncode != 0:
            raise RuntimeError(f"postgres-down.sh failed ({res.returncode}):\n{res.stderr[-3000:]}")

    def accepts_connections(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1.0):
                return True
        except OSError:
            return False


def postgres_bin_available() -> bool:
    return any(Path(p, "initdb").is_file() for p in Path("/usr/lib/postgresql").glob("*/bin"))


# ----- fixtures -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_url() -> str:
    url = os.environ.get("SWITCHBOARD_DATABASE_URL", "")
    if not is_postgres_url(url):
        shown = "unset" if not url else url.split(":", 1)[0] + ":..."
        require_postgres(
            f"SWITCHBOARD_DATABASE_URL is not a postgres:// URL ({shown}); "
            "the replica and outage tests need PostgreSQL"
        )
    return url


@pytest.fixture(scope="session")
def switchboard_bin() -> Path:
    return find_switchboard_bin()


@pytest.fixture(scope="session")
def run_id() -> str:
    return uuid.uuid4().hex[:10]


@pytest.fixture(scope="session")
def workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="switchboard-replicas-") as tmp:
        yield Path(tmp)


@pytest.fixture(scope="session")
def replica_database(postgres_url: str, run_id: str) -> Iterator[str]:
    """A fresh database on the configured server for this session, dropped at the end."""
    name = f"sb_replicas_{run_id}"
    try:
        psql(postgres_url, f"CREATE DATABASE {name}")
    except (RuntimeError, subprocess.TimeoutExpired, FileNotFoundError) as exc:
        pytest.fail(f"could not create database {name}: {exc}", pytrace=False)
    try:
        yield with_database(postgres_url, name)
    finally:
        try:
            psql(postgres_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            warnings.warn(f"could not drop database {name}: {exc}")


@dataclass
class Replicas:
    a: SwitchboardServer
    b: SwitchboardServer
    workspace: Workspace

    @property
    def both(self) -> List[SwitchboardServer]:
        return [self.a, self.b]


@pytest.fixture(scope="session")
def replicas_ctx(
    switchboard_bin: Path, replica_database: str, workdir: Path, run_id: str
) -> Iterator[Replicas]:
    a = SwitchboardServer(switchboard_bin, replica_database, workdir, "A")
    b = SwitchboardServer(switchboard_bin, replica_database, workdir, "B")
    # The workspace exists before either replica starts, so neither creates one of its own.
    workspace = a.create_workspace(f"replicas-{run_id}")
    try:
        a.start()
        b.start()
        yield Replicas(a=a, b=b, workspace=workspace)
    finally:
        a.stop_and_warn()
        b.stop_and_warn()


@pytest.fixture
def replicas(replicas_ctx: Replicas) -> Replicas:
    for server in replicas_ctx.both:
        server.assert_running()
    return replicas_ctx


@pytest.fixture
def private_cluster(postgres_url: str) -> Iterator[PrivateCluster]:
    """A cluster of our own on a free port and a temporary directory; stopped and removed after."""
    if not postgres_bin_available():
        require_postgres("PostgreSQL's server binaries (initdb, pg_ctl) are not installed")
    directory = Path(tempfile.mkdtemp(prefix="switchboard-outage-pg-"))
    cluster = PrivateCluster(directory, free_loopback_port())
    try:
        cluster.up()
        yield cluster
    finally:
        try:
            cluster.down("fast")
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            warnings.warn(f"could not stop the private PostgreSQL cluster: {exc}")
        shutil.rmtree(directory, ignore_errors=True)


# ----- figures for the terminal summary -----------------------------------------------------

FIGURES = FigureLog()


@pytest.fixture
def figures(request) -> Callable[[str], None]:
    """Records a measured figure; all of them are printed at the end of the run."""
    return FIGURES.recorder(request.node.name)


def pytest_terminal_summary(terminalreporter) -> None:
    FIGURES.summarize(terminalreporter)


@pytest.fixture
def make_server(switchboard_bin: Path, workdir: Path) -> Iterator["Callable[[str, str], SwitchboardServer]"]:
    """Factory for extra `switchboard serve` processes; all of them are stopped after the test."""
    started: List[SwitchboardServer] = []

    def make(database_url: str, name: str) -> SwitchboardServer:
        server = SwitchboardServer(switchboard_bin, database_url, workdir, name)
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop_and_warn()
