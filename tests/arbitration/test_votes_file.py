"""The votes file: malformed lines and bad choices are skipped with a log line, a vote for a seat not
drawn yet waits for its draw, and a later line never changes a vote given."""

import json
import logging

from sqlalchemy import select

from arbitration.tables import schema, seats, votes
from arbitration.votes_file import VotesFile
from runtime.db import connect, transaction


def _seat(engine, dispute_id: int) -> None:
    with transaction(engine) as db:
        db.execute(seats.insert().values(dispute_id=dispute_id, round=0, commit_end=1, reveal_end=2,
                                         block_number=1, notified=True))  # fmt: skip


def test_votes_file_skips_bad_lines_waits_for_draws_and_never_changes_a_vote(tmp_path, caplog):
    engine = connect(f"sqlite:///{tmp_path}/arb.db", schema)
    path = tmp_path / "votes.jsonl"
    lines = ["not json", json.dumps({"dispute_id": 1}), json.dumps({"dispute_id": 1, "choice": 7}), ""]
    lines += [json.dumps({"dispute_id": 1, "choice": 2}), json.dumps({"dispute_id": 2, "choice": 1})]
    path.write_text("\n".join(lines) + "\n")
    _seat(engine, 1)
    reader = VotesFile(path)
    with caplog.at_level(logging.ERROR):
        assert reader.load(engine) == 1
    assert [r.getMessage().split(" line ")[1][:1] for r in caplog.records] == ["1", "2", "3"]
    assert "choice 7 is not 0, 1 or 2" in caplog.records[2].getMessage()
    _seat(engine, 2)  # drawn later: the waiting line is read again
    assert reader.load(engine) == 1
    path.write_text(json.dumps({"dispute_id": 1, "choice": 1}) + "\n")
    assert reader.load(engine) == 0
    with engine.connect() as db:
        assert db.execute(select(votes.c.dispute_id, votes.c.choice).order_by(votes.c.dispute_id)).all() == [
            (1, 2),
            (2, 1),
        ]
    assert reader.load(engine) == 0  # unchanged file: not read again
    assert VotesFile(tmp_path / "absent.jsonl").load(engine) == 0
