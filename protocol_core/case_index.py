"""Where each drawn arbitrator's sealed case file is stored: the ERC-1497 evidence the agent submits.

The agent's desk seals a case file to every drawn arbitrator and names where each one is in a
dispute evidence (`submitDisputeEvidence`), so an arbitrator finds its own from the chain alone.
Knowing a URI gives nothing away: a sealed blob opens only with its recipient's key.
"""

import json
from collections.abc import Mapping
from urllib.parse import quote, unquote

from .context import canonical_json

PREFIX = "data:application/json,"
NAME = "case files"  # the evidence's ERC-1497 `name`, which marks it as an index of case files


def case_index_uri(case_files: Mapping[str, str]) -> str:
    """The evidence URI naming each reader's (checksummed or lower-case address) case-file URI."""
    body = {
        "name": NAME,
        "description": "a case file sealed to each drawn arbitrator; only its recipient can open it",
        "caseFiles": {reader.lower(): uri for reader, uri in case_files.items()},
    }
    return PREFIX + quote(canonical_json(body).decode(), safe="")


def case_files_in(evidence_uri: str) -> dict[str, str]:
    """The readers (lower-case addresses) and URIs an evidence names; {} for any other evidence."""
    if not evidence_uri.startswith(PREFIX):
        return {}
    try:
        body = json.loads(unquote(evidence_uri.removeprefix(PREFIX)))
    except ValueError:
        return {}
    files = body.get("caseFiles") if isinstance(body, dict) and body.get("name") == NAME else None
    if not isinstance(files, dict):
        return {}
    return {str(reader).lower(): str(uri) for reader, uri in files.items() if isinstance(uri, str)}
