"""The node's view of the chain: raw JSON-RPC through web3.py, decoded into the few things it needs."""

from dataclasses import dataclass
from typing import Any

import requests
from eth_abi import decode, encode
from eth_utils import event_abi_to_log_topic, to_checksum_address
from web3 import Web3

from protocol_core.abi import abi
from protocol_core.terms import TERMS_ABI, JobTerms

from .errors import ChainUnavailable, RpcError

SUBMITTED = 3  # JobStatus.Submitted
MAX_URI_BYTES = 2_048


def _topic(contract: str, event_name: str) -> str:
    entry = next(e for e in abi(contract) if e["type"] == "event" and e["name"] == event_name)
    return "0x" + event_abi_to_log_topic(entry).hex()  # type: ignore[arg-type]


def _function_selector(contract: str, name: str) -> bytes:
    entry = next(e for e in abi(contract) if e["type"] == "function" and e["name"] == name)
    return bytes.fromhex(_selector(entry))


JOB_POSTED = _topic("JobEscrow", "JobPosted")
EVIDENCE_SUBMITTED = _topic("JobEscrow", "EvidenceSubmitted")


@dataclass(frozen=True)
class Block:
    """A block's number, hash and time."""

    number: int
    hash: str
    parent_hash: str
    timestamp: int


@dataclass(frozen=True)
class Posted:
    """A JobPosted log: the terms of a job."""

    job_id: str
    terms: JobTerms
    block_number: int
    block_hash: str


@dataclass(frozen=True)
class Submitted:
    """An EvidenceSubmitted log."""

    job_id: str
    evidence_hash: str
    uri: str
    block_number: int
    block_hash: str


@dataclass(frozen=True)
class VerificationContext:
    """What the escrow says about a job's evidence right now."""

    status: int
    evidence_hash: str
    verify_by: int


class Chain:
    """Reads and sends through one RPC endpoint; connection failures become ChainUnavailable."""

    def __init__(self, w3: Web3, escrow: str, oracle: str) -> None:
        self.w3 = w3
        self.escrow = w3.eth.contract(address=to_checksum_address(escrow), abi=abi("JobEscrow"))
        self.oracle = w3.eth.contract(address=to_checksum_address(oracle), abi=abi("VerificationOracle"))

    @classmethod
    def over_http(cls, url: str, escrow: str, oracle: str, timeout: float = 10.0) -> "Chain":
        """A chain reached over HTTP(S) at `url`."""
        return cls(Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": timeout})), escrow, oracle)

    def call(self, method: str, *params: Any) -> Any:
        """One JSON-RPC request; an unreachable endpoint raises ChainUnavailable."""
        try:
            return self.w3.provider.make_request(method, list(params))  # type: ignore[arg-type]
        except (requests.ConnectionError, requests.Timeout, OSError) as error:
            raise _unreachable(error) from error

    def _result(self, method: str, *params: Any) -> Any:
        response = self.call(method, *params)
        if "error" in response:
            raise RpcError(f"{method} failed: {response['error']}")
        return response["result"]

    def chain_id(self) -> int:
        """The chain's id."""
        return int(self._result("eth_chainId"), 16)

    def head(self) -> int:
        """The latest block number."""
        return int(self._result("eth_blockNumber"), 16)

    def block(self, tag: int | str) -> Block | None:
        """The block at a number or tag ("finalized"), or None when it does not exist (yet)."""
        raw = self._result("eth_getBlockByNumber", hex(tag) if isinstance(tag, int) else tag, False)
        if raw is None:
            return None
        return Block(int(raw["number"], 16), raw["hash"], raw["parentHash"], int(raw["timestamp"], 16))

    def oracle_escrow(self) -> str:
        """The escrow the oracle reports its verdicts to."""
        data = ORACLE_ESCROW
        (escrow,) = decode(
            ["address"],
            _hex_bytes(self._result("eth_call", {"to": self.oracle.address, "data": data}, "latest")),
        )
        return to_checksum_address(escrow)

    def block_hashes(self, numbers: list[int]) -> list[str | None]:
        """The canonical hash at each block number (None past the head), in one batch request."""
        blocks = self._batch([("eth_getBlockByNumber", [hex(number), False]) for number in numbers])
        return [block["hash"] if block is not None else None for block in blocks]

    def code_size(self, address: str) -> int:
        """Bytes of code at `address`."""
        return (len(self._result("eth_getCode", address, "latest")) - 2) // 2

    def logs(self, first: int, last: int) -> list[Posted | Submitted]:
        """The escrow's JobPosted and EvidenceSubmitted logs in [first, last], in chain order."""
        query = {
            "address": self.escrow.address,
            "fromBlock": hex(first),
            "toBlock": hex(last),
            "topics": [[JOB_POSTED, EVIDENCE_SUBMITTED]],
        }
        return [self._decode(log) for log in self._result("eth_getLogs", query) if not log.get("removed")]

    def _decode(self, log: dict[str, Any]) -> Posted | Submitted:
        topic, job_id = log["topics"][0], log["topics"][1]
        data = bytes.fromhex(log["data"][2:])
        number, block_hash = int(log["blockNumber"], 16), log["blockHash"]
        if topic == JOB_POSTED:
            (terms,) = decode([TERMS_ABI], data)
            return Posted(job_id, JobTerms.from_event(terms), number, block_hash)
        evidence_hash, raw_uri = decode(["bytes32", "bytes"], data)  # `string` is encoded as `bytes`
        return Submitted(job_id, "0x" + evidence_hash.hex(), _safe_uri(raw_uri), number, block_hash)

    def verification_contexts(self, job_ids: list[str]) -> list[VerificationContext]:
        """The escrow's status, evidence hash and verify-by of each job, in one batch request."""
        calls = [
            ("eth_call", [{"to": self.escrow.address, "data": VERIFICATION_CONTEXT + job_id[2:]}, "latest"])
            for job_id in job_ids
        ]
        contexts = []
        for response in self._batch(calls):
            status, evidence_hash, verify_by = decode(["uint8", "bytes32", "uint40"], _hex_bytes(response))
            contexts.append(VerificationContext(status, "0x" + evidence_hash.hex(), verify_by))
        return contexts

    def attest_call(
        self, job_id: str, evidence_hash: str, approve: bool, reason: int, terms: JobTerms
    ) -> bytes:
        """Calldata of the oracle's `attest`."""
        args = [bytes.fromhex(job_id[2:]), bytes.fromhex(evidence_hash[2:]), approve, reason, terms.as_abi()]
        return ATTEST + encode(["bytes32", "bytes32", "bool", "uint8", TERMS_ABI], args)

    def _batch(self, calls: list[tuple[str, list[Any]]]) -> list[Any]:
        """Results of a batch request; any error in it raises ChainUnavailable."""
        responses = self._batch_raw(calls)
        for response in responses:
            if "error" in response:
                raise ChainUnavailable(f"batch request failed: {response['error']}")
        return [response["result"] for response in responses]

    def _batch_raw(self, calls: list[tuple[str, list[Any]]]) -> list[dict[str, Any]]:
        """The responses of a batch request in the order of `calls`, errors included."""
        if not calls:
            return []
        try:
            responses = self.w3.provider.make_batch_request(calls)  # type: ignore[arg-type,attr-defined]
        except (requests.ConnectionError, requests.Timeout, OSError) as error:
            raise _unreachable(error) from error
        if not isinstance(responses, list):
            raise ChainUnavailable(f"batch request refused: {responses.get('error')}")
        return sorted(responses, key=lambda response: int(response["id"]))

    def fees(self) -> tuple[int, int]:
        """(max fee, priority fee) per gas for a transaction sent now."""
        base = int(self._result("eth_getBlockByNumber", "latest", False)["baseFeePerGas"], 16)
        priority = int(self._result("eth_maxPriorityFeePerGas"), 16)
        return 2 * base + priority, priority

    def send_raw(self, raw: bytes) -> str | None:
        """Broadcasts `raw`; returns the node's error message, or None when accepted."""
        response = self.call("eth_sendRawTransaction", "0x" + raw.hex())
        return str(response["error"].get("message")) if "error" in response else None

    def send_raw_many(self, raws: list[bytes]) -> list[str | None]:
        """Broadcasts each of `raws` in one batch; the node's error message for each, or None."""
        responses = self._batch_raw([("eth_sendRawTransaction", ["0x" + raw.hex()]) for raw in raws])
        return [str(r["error"].get("message")) if "error" in r else None for r in responses]

    def dry_runs(self, sender: str, calls: list[bytes]) -> list[int | str]:
        """Gas each `attest` calldata needs, or the name of the custom error it would revert with."""
        tx = {"from": sender, "to": self.oracle.address}
        return [
            _gas_or_revert(response)
            for response in self._batch_raw(
                [("eth_estimateGas", [tx | {"data": "0x" + d.hex()}]) for d in calls]
            )
        ]

    def receipts(self, tx_hashes: list[str]) -> list[dict[str, Any] | None]:
        """The receipt of each transaction, or None while it is not mined; one batch request."""
        return self._batch([("eth_getTransactionReceipt", [tx_hash]) for tx_hash in tx_hashes])

    def known(self, tx_hash: str) -> bool:
        """Whether the node knows `tx_hash` (pending or mined)."""
        return self._result("eth_getTransactionByHash", tx_hash) is not None

    def nonce(self, address: str, tag: str = "pending") -> int:
        """The next nonce of `address`, counting its pending transactions (or, with "latest", mined ones)."""
        return int(self._result("eth_getTransactionCount", address, tag), 16)


def _safe_uri(raw: bytes) -> str:
    """The worker's URI as text; the contract checks nothing, so invalid UTF-8, NUL bytes or a huge
    URI become a marker that no fetcher accepts (rejected as UNSUPPORTED_URI), never a crash."""
    try:
        uri = raw.decode("utf-8")
    except UnicodeDecodeError:
        uri = ""
    if not uri or "\x00" in uri or len(raw) > MAX_URI_BYTES:
        return "invalid-uri:0x" + raw[:32].hex()
    return uri


def _unreachable(error: Exception) -> ChainUnavailable:
    return ChainUnavailable(f"RPC unreachable ({type(error).__name__}): check that the node is up")


def _gas_or_revert(response: dict[str, Any]) -> int | str:
    """Gas of a passing dry run, or the name of the custom error it reverts with."""
    if "error" not in response:
        return int(response["result"], 16)
    error = response["error"]
    revert = error.get("data") if isinstance(error, dict) else None
    if isinstance(revert, str) and revert[2:10] in ERRORS:
        return ERRORS[revert[2:10]]
    return f"rejected by the RPC: {error}"


def _hex_bytes(value: str) -> bytes:
    return bytes.fromhex(value[2:])


def _selector(entry: dict[str, Any]) -> str:
    signature = f"{entry['name']}({','.join(_type(i) for i in entry['inputs'])})"
    return Web3.keccak(text=signature)[:4].hex()


def _type(param: dict[str, Any]) -> str:
    if param["type"].startswith("tuple"):
        return "(" + ",".join(_type(c) for c in param["components"]) + ")" + param["type"][5:]
    return str(param["type"])


VERIFICATION_CONTEXT = "0x" + _function_selector("JobEscrow", "verificationContext").hex() + ""
ATTEST = _function_selector("VerificationOracle", "attest")
ORACLE_ESCROW = "0x" + _function_selector("VerificationOracle", "escrow").hex()
ERRORS = {
    _selector(entry): entry["name"]
    for entry in abi("VerificationOracle") + abi("JobEscrow")
    if entry["type"] == "error"
}
