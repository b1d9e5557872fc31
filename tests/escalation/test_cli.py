"""`escalation decide` as a real process: one output line per input line, errors as objects."""

import json
import subprocess
import sys
from pathlib import Path

KNOWN = Path(__file__).resolve().parents[2] / "escalation" / "corpus" / "known_issues.jsonl"
GOOD = {
    "language": "en",
    "messages": [{"role": "customer", "text": "How do I reset my password?", "ts": 1}],
    "agent_confidence": 0.9,
}


def run(lines: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "escalation.cli", "decide", "--known-issues", str(KNOWN)],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        check=False,
    )


def test_one_line_per_input_and_exit_one_on_bad_lines() -> None:
    lines = [json.dumps(GOOD), "not json", json.dumps({**GOOD, "agent_confidence": 3}), json.dumps(GOOD)]
    result = run(lines)
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(out) == 4
    assert out[0]["should_escalate"] is False and out[3]["triggers"] == []
    assert out[1]["line"] == 2 and "not JSON" in out[1]["error"]
    assert out[2]["line"] == 3 and "agent_confidence" in out[2]["error"]
    assert result.returncode == 1


def test_exit_zero_when_all_lines_are_good() -> None:
    result = run([json.dumps(GOOD)] * 3)
    assert result.returncode == 0 and len(result.stdout.splitlines()) == 3
