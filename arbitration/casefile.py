"""Opening a case file the desk sealed to me, and showing it with what the chain says about the dispute:
the oracle's verdict and reason, and the parties' statements (ERC-1497 Evidence)."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from eth_abi import decode
from nacl.public import PrivateKey

from protocol_core.abi import abi
from protocol_core.case_index import case_files_in
from protocol_core.content import ContentClient, ContentError, FolderStore
from protocol_core.enums import Reason
from protocol_core.sealing import SealError, open_sealed
from protocol_core.terms import TERMS_ABI, JobTerms
from runtime.abi import event_topic
from runtime.chain import Log

from .errors import CaseFileError
from .wiring import Parts

ESCROW, ORACLE = abi("JobEscrow"), abi("VerificationOracle")
DISPUTE, EVIDENCE = event_topic(ESCROW, "Dispute"), event_topic(ESCROW, "Evidence")
POSTED, ATTESTED = event_topic(ESCROW, "JobPosted"), event_topic(ORACLE, "Attested")


def _word(value: int) -> str:
    return "0x" + value.to_bytes(32, "big").hex()


class CaseReader:
    """Finds the dispute's job on chain, opens its sealed case file and renders it as text."""

    def __init__(self, p: Parts, key_file: Path | None, content_root: Path | None) -> None:
        if key_file is None:
            raise CaseFileError("no X25519 key: pass --key-file or set ARBITRATOR_X25519_KEY_FILE")
        try:
            self._key = PrivateKey(bytes.fromhex(key_file.read_text().strip().removeprefix("0x")))
        except (ValueError, OSError) as error:
            raise CaseFileError(f"{key_file} does not hold a hex X25519 private key ({error})") from None
        self._p, self._root = p, content_root

    def render(self, dispute_id: int, case: str | None = None) -> str:
        """The case as readable text; the case file is the one the agent named for me unless `case`
        is given. CaseFileError when it cannot be found, fetched or opened."""
        p, first, head = self._p, self._p.settings.start_block, self._p.chain.head()
        escrow, oracle = p.addresses.escrow, p.addresses.oracle
        created = [
            lg for lg in self._logs([escrow], [DISPUTE], first, head) if lg.topics[2] == _word(dispute_id)
        ]
        if not created:
            raise CaseFileError(f"dispute {dispute_id} was not opened by the escrow {escrow}")
        job_id = _word(decode(["uint256", "uint256"], created[0].data)[1])
        about = [
            lg
            for lg in self._logs([escrow, oracle], [POSTED, ATTESTED, EVIDENCE], first, head)
            if (lg.topics[2] if lg.topics[0] == EVIDENCE else lg.topics[1]) == job_id
        ]
        posted = next(lg for lg in about if lg.topics[0] == POSTED)
        terms = JobTerms.from_event(decode([TERMS_ABI], posted.data)[0])
        lines = [f"dispute {dispute_id}, job {job_id}", f"agent {terms.agent}, reward {terms.reward}"]
        named: str | None = None
        for lg in about:
            if lg.topics[0] == ATTESTED:
                _hash, approve, reason = decode(["bytes32", "bool", "uint8"], lg.data)
                verdict = "approved" if approve else "rejected"
                lines.append(f"oracle {_address(lg.topics[2])}: {verdict}, reason {Reason(reason).name}")
            elif lg.topics[0] == EVIDENCE:
                (uri,) = decode(["string"], lg.data)
                files = case_files_in(uri)
                if not files:
                    lines.append(f"statement by {_address(lg.topics[3])}: {_statement(uri)}")
                elif _address(lg.topics[3]) == terms.agent.lower():  # only the sealer's index counts
                    named = files.get(p.account.address.lower(), named)
        if case is None and named is None:
            raise CaseFileError(
                f"no case file named for you in dispute {dispute_id}'s evidence yet: the agent's desk names "
                "it after the draw (or pass --case)"
            )
        try:
            blob = self._blob(case if case is not None else str(named))
            payload = open_sealed(blob, self._key, expected_sender=terms.agent, kind="case")
        except SealError as error:
            raise CaseFileError(f"cannot open the case file: {error}") from None
        opened: dict[str, Any] = json.loads(payload)
        lines.append("case file (sealed to you by the agent):")
        lines.extend(
            f"  {key}: {json.dumps(value, indent=2, sort_keys=True)}" for key, value in opened.items()
        )
        return "\n".join(lines)

    def _logs(self, addresses: list[str], topics: list[str], first: int, last: int) -> Iterator[Log]:
        """The logs in [first, last], read `log_chunk` blocks per request (RPCs cap a log range)."""
        chunk = max(self._p.settings.log_chunk, 1)
        for start in range(first, last + 1, chunk):
            yield from self._p.chain.logs(addresses, topics, start, min(start + chunk - 1, last))

    def _blob(self, case: str) -> bytes:
        path = Path(case)
        if path.is_file():
            return path.read_bytes()
        parsed = urlparse(case)
        if not parsed.scheme:
            raise CaseFileError(f"no file {case}, and not a URI")
        folder = FolderStore(self._root) if self._root is not None else None
        client = ContentClient(folder=folder, reader=self._p.account)
        try:
            return client.get(case, case.rstrip("/").rsplit("/", 1)[-1])
        except ContentError as error:
            raise CaseFileError(f"cannot fetch {case}: {error}") from None
        finally:
            client.close()


def _address(topic: str) -> str:
    return "0x" + topic[-40:].lower()


def _statement(uri: str) -> str:
    if uri.startswith("data:text/plain,"):
        return unquote(uri.removeprefix("data:text/plain,"))
    return uri
