"""Arbitrators as real processes: `arbitrator watch` daemons and `arbitrator <command>` runs, one key each."""

import os
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

from .accounts import PASSPHRASE, write_keystore
from .chain import free_port
from .daemons import Daemon, program


class Arbitrator(Daemon):
    """One arbitrator: its keystore, SQLite database, and `arbitrator watch` on a free metrics port."""

    def __init__(self, workdir: Path, rpc: str, deployments: Path, alias: str, key: bytes, **settings: Any):
        write_keystore(workdir / "ape", alias, key)
        self.alias, self.database = alias, workdir / f"{alias}.db"
        self.shared = [
            "--rpc-url", rpc, "--account", alias, "--deployments-file", str(deployments),
            "--database-url", f"sqlite:///{self.database}",
        ]  # fmt: skip
        env = {
            "APE_DATA_FOLDER": str(workdir / "ape"), "ARBITRATOR_PASSPHRASE": PASSPHRASE,
            "ARBITRATOR_POLL_INTERVAL": "0.05", "ARBITRATOR_GAS_BUMP_SECONDS": "0",
            **{f"ARBITRATOR_{name.upper()}": str(value) for name, value in settings.items()},
        }  # fmt: skip
        port = free_port()
        argv = [program("arbitrator"), "watch", *self.shared, "--metrics-port", str(port)]
        super().__init__(alias, argv, port=port, workdir=workdir, env=env)

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """`arbitrator <args>` with this arbitrator's key and database, as a real process."""
        return subprocess.run(
            [program("arbitrator"), *args, *self.shared], capture_output=True, text=True, timeout=180,
            env={**os.environ, **self.env}, cwd=self.workdir,
        )  # fmt: skip

    def spawn(self, *args: str) -> subprocess.Popen[str]:
        """`arbitrator <args>` started without waiting (several commands at once); communicate() ends it."""
        return subprocess.Popen(
            [program("arbitrator"), *args, *self.shared], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, env={**os.environ, **self.env}, cwd=self.workdir,
        )  # fmt: skip

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Reads the daemon's SQLite database (WAL: never blocks it); [] before its tables exist."""
        if not self.database.exists():
            return []
        with sqlite3.connect(f"file:{self.database}?mode=ro", uri=True, timeout=5) as db:
            try:
                return db.execute(sql, params).fetchall()
            except sqlite3.OperationalError:
                return []
