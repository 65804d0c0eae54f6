"""Fixtures for the robustness suite (see e2e/robustness/run.sh and docs/reliability.md).

Every test gets a database of its own and starts its own `switchboard serve` processes (crash,
shutdown and timeout tests need servers they can kill and configure):

- SQLite (default): a file in a temporary directory.
- PostgreSQL, when SWITCHBOARD_DATABASE_URL is a postgres:// URL: a fresh database created on
  that server for the test and dropped after it.

Environment:
  SWITCHBOARD_BIN           the switchboard binary (default: <repo>/.build/debug/switchboard)
  SWITCHBOARD_DATABASE_URL  postgres:// URL to run on PostgreSQL; otherwise SQLite
  SWITCHBOARD_SOAK_SECONDS  measured soak duration (default 40; `make soak` sets 300)
  SWITCHBOARD_SOAK_WARMUP_SECONDS  soak warm-up (default 30; `make soak` sets 60)
  SWITCHBOARD_SOAK_RATE     soak requests per second (default 100)
  SWITCHBOARD_CRASH_KILLS   kill points of the crash test (default 20)
  SWITCHBOARD_FUZZ_EXAMPLES schemathesis examples per operation and phase (default 60)

API keys are secrets even in tests: they are never put in messages or reprs.
"""

from __future__ import annotations

import os
import sqlite3
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

from switchboard_testkit import (  # noqa: E402
    FigureLog,
    SwitchboardServer,
    find_switchboard_bin,
    is_postgres_url,
    psql,
    with_database,
)


@dataclass
class Backend:
    """The database one test runs on."""

    name: str  # "sqlite" or "postgres"
    url: str
    sqlite_path: Optional[Path] = None

    def integrity_problems(self) -> List[str]:
        """What the database's own checker reports; empty when the database is sound.

        SQLite: `PRAGMA integrity_check` (opening the file also replays the WAL, as a restart
        would). PostgreSQL: amcheck's `verify_heapam` on every table and `bt_index_check` with
        `heapallindexed` on every index of the public schema.
        """
        if self.name == "sqlite":
            assert self.sqlite_path is not None
            db = sqlite3.connect(str(self.sqlite_path), timeout=30)
            try:
                rows = [r[0] for r in db.execute("PRAGMA integrity_check").fetchall()]
            finally:
                db.close()
            return [] if rows == ["ok"] else rows
        database = self.url.rsplit("/", 1)[1].split("?", 1)[0]
        psql(self.url, "CREATE EXTENSION IF NOT EXISTS amcheck", database=database)
        heap = psql(
            self.url,
            "SELECT c.relname || ': ' || v.msg FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "CROSS JOIN LATERAL verify_heapam(c.oid) v "
            "WHERE n.nspname = 'public' AND c.relkind = 'r'",
            database=database,
        )
        # bt_index_check raises on corruption; ON_ERROR_STOP turns that into a failed psql.
        try:
            psql(
                self.url,
                "SELECT bt_index_check(c.oid, true) FROM pg_index i "
                "JOIN pg_class c ON c.oid = i.indexrelid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "JOIN pg_am a ON a.oid = c.relam "
                "WHERE n.nspname = 'public' AND a.amname = 'btree'",
                database=database,
            )
            index: List[str] = []
        except RuntimeError as exc:
            index = [str(exc)]
        return [line for line in heap.splitlines() if line.strip()] + index


@pytest.fixture(scope="session")
def switchboard_bin() -> Path:
    return find_switchboard_bin()


@pytest.fixture
def workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="switchboard-robustness-") as tmp:
        yield Path(tmp)


@pytest.fixture
def backend(workdir: Path) -> Iterator[Backend]:
    url = os.environ.get("SWITCHBOARD_DATABASE_URL", "")
    if not is_postgres_url(url):
        path = workdir / "data" / "switchboard.sqlite"
        yield Backend(name="sqlite", url=f"sqlite:{path}", sqlite_path=path)
        return
    name = f"sb_robust_{uuid.uuid4().hex[:10]}"
    psql(url, f"CREATE DATABASE {name}")
    try:
        yield Backend(name="postgres", url=with_database(url, name))
    finally:
        try:
            psql(url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        except RuntimeError as exc:
            warnings.warn(f"could not drop database {name}: {exc}")


@pytest.fixture
def make_server(
    switchboard_bin: Path, backend: Backend, workdir: Path
) -> Iterator[Callable[..., SwitchboardServer]]:
    """Factory for `switchboard serve` processes on the test's database; all stopped after."""
    started: List[SwitchboardServer] = []

    def make(*serve_args: str, name: str = "") -> SwitchboardServer:
        server = SwitchboardServer(switchboard_bin, backend.url, workdir, name, serve_args)
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop_and_warn()


# ----- figures for the terminal summary (copied into docs/reliability.md) -----------------

FIGURES = FigureLog()


@pytest.fixture
def figures(request, backend: Backend) -> Callable[[str], None]:
    """Records a measured figure; all of them are printed at the end of the run."""
    return FIGURES.recorder(f"[{backend.name}] {request.node.name}")


def pytest_terminal_summary(terminalreporter) -> None:
    FIGURES.summarize(terminalreporter)


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default
