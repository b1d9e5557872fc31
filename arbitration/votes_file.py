"""Votes handed over in a file: JSON lines {"dispute_id": 7, "choice": 1}, read every pass."""

import json
import logging
from pathlib import Path

from sqlalchemy import Engine, select

from runtime.db import transaction

from .tables import seats
from .votes import give

log = logging.getLogger(__name__)


class VotesFile:
    """Gives each vote of the file to the newest seat of its dispute, once (a vote never changes)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._seen = -1.0  # the file's mtime last read

    def load(self, engine: Engine) -> int:
        """Records the file's votes for seats that have none; returns how many were new."""
        if not self.path.exists() or self.path.stat().st_mtime == self._seen:
            return 0
        self._seen = self.path.stat().st_mtime
        given, waiting = 0, False
        for number, line in enumerate(self.path.read_text().splitlines(), 1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                dispute_id, choice = int(entry["dispute_id"]), int(entry["choice"])
            except (ValueError, KeyError, TypeError):
                log.error('%s line %d is not {"dispute_id": N, "choice": 0|1|2}; skipped', self.path, number)
                continue
            if choice not in (0, 1, 2):
                log.error("%s line %d: choice %s is not 0, 1 or 2; skipped", self.path, number, choice)
                continue
            with transaction(engine) as db:
                seat = db.execute(
                    select(seats.c.round)
                    .where(seats.c.dispute_id == dispute_id)
                    .order_by(seats.c.round.desc())
                ).first()
                if seat is None:
                    waiting = True
                elif give(db, dispute_id, seat.round, choice):
                    given += 1
        if waiting:
            self._seen = -1.0  # a line for a seat not drawn yet: read again next pass
        return given
