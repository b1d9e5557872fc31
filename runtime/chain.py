"""What every daemon reads from and sends to the chain, over one JSON-RPC endpoint, as small records."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import ChainUnavailable, RpcError
from .rpc import JsonRpc, Request


@dataclass(frozen=True)
class Block:
    """A block's number, hash and time."""

    number: int
    hash: str
    parent_hash: str
    timestamp: int


@dataclass(frozen=True)
class BlockRef:
    """A block the daemon has seen, by number and hash: reads pinned to it never answer from before it."""

    number: int
    hash: str

    def param(self) -> dict[str, str]:
        """The EIP-1898 block parameter that pins a read to this block (refused by an RPC behind it)."""
        return {"blockHash": self.hash}


@dataclass(frozen=True)
class Span:
    """A range read in one batch: its first and last block (None where the RPC has none) and its logs."""

    first: Block | None
    last: Block | None
    logs: list["Log"]


@dataclass(frozen=True)
class Log:
    """One log as the RPC returned it: its contract, topics, data and block."""

    address: str
    topics: list[str]
    data: bytes
    block_number: int
    block_hash: str


class Chain:
    """Reads and sends through one endpoint; connection failures become ChainUnavailable."""

    def __init__(self, rpc: JsonRpc) -> None:
        self.rpc = rpc

    @classmethod
    def over_http(cls, url: str, timeout: float = 10.0) -> "Chain":
        """A chain reached over HTTP(S) at `url`."""
        return cls(JsonRpc.over_http(url, timeout))

    def chain_id(self) -> int:
        """The chain's id."""
        return int(self.rpc.result("eth_chainId"), 16)

    def head(self) -> int:
        """The latest block number."""
        return int(self.rpc.result("eth_blockNumber"), 16)

    def block(self, tag: int | str) -> Block | None:
        """The block at a number or tag ("finalized"), or None when it does not exist (yet)."""
        raw = self.rpc.result("eth_getBlockByNumber", hex(tag) if isinstance(tag, int) else tag, False)
        return _block(raw)

    def block_hashes(self, numbers: list[int]) -> list[str | None]:
        """The canonical hash at each block number (None past the head), in one batch request."""
        blocks = self.rpc.batch([("eth_getBlockByNumber", [hex(number), False]) for number in numbers])
        return [block["hash"] if block is not None else None for block in blocks]

    def code_size(self, address: str) -> int:
        """Bytes of code at `address`."""
        return (len(self.rpc.result("eth_getCode", address, "latest")) - 2) // 2

    def logs(self, addresses: Sequence[str], topics: Sequence[str], first: int, last: int) -> list[Log]:
        """Logs of `addresses` whose first topic is one of `topics`, in [first, last], in chain order."""
        return _logs(self.rpc.result("eth_getLogs", _log_query(addresses, topics, first, last)))

    def span(self, addresses: Sequence[str], topics: Sequence[str], first: int, last: int) -> Span:
        """Blocks `first` and `last` and the logs between them, in one batch request.

        A backend answers a batch from one view of the chain: when it has block `last`, it had every
        log up to it (a backend behind it answers with fewer logs and no block `last`). A refused log
        range raises RpcError.
        """
        query = _log_query(addresses, topics, first, last)
        start, tip, found = self.rpc.batch_raw(
            [("eth_getBlockByNumber", [hex(first), False]), ("eth_getBlockByNumber", [hex(last), False]),
             ("eth_getLogs", [query])]
        )  # fmt: skip
        if "error" in found:
            raise RpcError(f"eth_getLogs failed: {found['error']}")
        for answer in (start, tip):
            if "error" in answer:
                raise ChainUnavailable(f"eth_getBlockByNumber failed: {answer['error']}")
        return Span(_block(start["result"]), _block(tip["result"]), _logs(found["result"]))

    def call(self, to: str, data: bytes) -> bytes:
        """What a call of `to` with `data` returns at the latest block."""
        return _hex_bytes(self.rpc.result("eth_call", {"to": to, "data": "0x" + data.hex()}, "latest"))

    def calls(self, requests: Sequence[tuple[str, bytes]]) -> list[bytes]:
        """What each (to, data) call returns at the latest block, in one batch request."""
        batch = [("eth_call", [{"to": to, "data": "0x" + data.hex()}, "latest"]) for to, data in requests]
        return [_hex_bytes(result) for result in self.rpc.batch(batch)]

    def calls_at(self, requests: Sequence[tuple[str, bytes]], at: BlockRef) -> list[bytes] | None:
        """What each (to, data) call returns at block `at` (EIP-1898), in one batch request; None when
        the RPC does not have that block (a backend behind it): ask again later."""
        batch = [("eth_call", [{"to": to, "data": "0x" + data.hex()}, at.param()]) for to, data in requests]
        answers = self.rpc.batch_raw(batch)
        if any("error" in answer for answer in answers):
            return None
        return [_hex_bytes(answer["result"]) for answer in answers]

    def dry_runs(
        self,
        sender: str,
        to: str,
        calls: Sequence[bytes],
        errors: Mapping[str, str],
        at: BlockRef | None = None,
        gas: int = 0,
    ) -> list[int | str]:
        """Gas each calldata needs at block `at` (default: the latest), or the name in `errors` (by
        selector) of the custom error it would revert with, or the RPC's refusal; one batch request.

        `gas`: each is first run as an eth_call with that much gas, which costs the node one execution
        where estimating costs several, and passes with `gas` as its answer; one that fails so without
        a custom error (out of gas, say) is estimated after all."""
        tx, block = {"from": sender, "to": to}, [at.param()] if at is not None else []
        if not gas:
            batch = [("eth_estimateGas", [tx | {"data": "0x" + data.hex()}, *block]) for data in calls]
            return [_gas_or_revert(response, errors) for response in self.rpc.batch_raw(batch)]
        where: list[Any] = block or ["latest"]
        bounded = [
            ("eth_call", [tx | {"gas": hex(gas), "data": "0x" + data.hex()}, *where]) for data in calls
        ]
        answers = [
            gas if "error" not in r else _gas_or_revert(r, errors) for r in self.rpc.batch_raw(bounded)
        ]
        named = set(errors.values())
        again = [i for i, answer in enumerate(answers) if isinstance(answer, str) and answer not in named]
        estimated = self.dry_runs(sender, to, [calls[i] for i in again], errors, at) if again else []
        for i, answer in zip(again, estimated, strict=True):
            answers[i] = answer
        return answers

    def fees(self) -> tuple[int, int]:
        """(max fee, priority fee) per gas for a transaction sent now."""
        base = int(self.rpc.result("eth_getBlockByNumber", "latest", False)["baseFeePerGas"], 16)
        priority = int(self.rpc.result("eth_maxPriorityFeePerGas"), 16)
        return 2 * base + priority, priority

    def send_raw(self, raw: bytes) -> str | None:
        """Broadcasts `raw`; returns the node's error message, or None when accepted."""
        response = self.rpc.request("eth_sendRawTransaction", "0x" + raw.hex())
        return str(response["error"].get("message")) if "error" in response else None

    def send_raw_many(self, raws: list[bytes]) -> list[str | None]:
        """Broadcasts each of `raws` in one batch; the node's error message for each, or None."""
        responses = self.rpc.batch_raw([("eth_sendRawTransaction", ["0x" + raw.hex()]) for raw in raws])
        return [str(r["error"].get("message")) if "error" in r else None for r in responses]

    def receipts(self, tx_hashes: list[str]) -> list[dict[str, Any] | None]:
        """The receipt of each transaction, or None while it is not mined; one batch request."""
        return self.rpc.batch([("eth_getTransactionReceipt", [tx_hash]) for tx_hash in tx_hashes])

    def known(self, tx_hash: str) -> bool:
        """Whether the node knows `tx_hash` (pending or mined)."""
        return self.rpc.result("eth_getTransactionByHash", tx_hash) is not None

    def nonce_and_receipts(
        self, address: str, at: BlockRef, tx_hashes: list[str]
    ) -> tuple[int, list[dict[str, Any] | None]] | None:
        """The nonces of `address` used at block `at`, and the receipts of `tx_hashes`, from one view of
        the chain (one batch); None when the RPC does not have block `at` yet."""
        batch: list[Request] = [("eth_getTransactionCount", [address, at.param()])]
        answers = self.rpc.batch_raw(batch + [("eth_getTransactionReceipt", [h]) for h in tx_hashes])
        if any("error" in answer for answer in answers):
            return None
        return int(answers[0]["result"], 16), [answer["result"] for answer in answers[1:]]

    def nonce(self, address: str, tag: str = "pending") -> int:
        """The next nonce of `address`, counting its pending transactions (or, with "latest", mined ones)."""
        return int(self.rpc.result("eth_getTransactionCount", address, tag), 16)


def _gas_or_revert(response: dict[str, Any], errors: Mapping[str, str]) -> int | str:
    """Gas of a passing dry run, or the name of the custom error it reverts with."""
    if "error" not in response:
        return int(response["result"], 16)
    error = response["error"]
    revert = error.get("data") if isinstance(error, dict) else None
    if isinstance(revert, str) and revert[2:10] in errors:
        return errors[revert[2:10]]
    return f"rejected by the RPC: {error}"


def _block(raw: dict[str, Any] | None) -> Block | None:
    if raw is None:
        return None
    return Block(int(raw["number"], 16), raw["hash"], raw["parentHash"], int(raw["timestamp"], 16))


def _log_query(addresses: Sequence[str], topics: Sequence[str], first: int, last: int) -> dict[str, Any]:
    return {
        "address": addresses[0] if len(addresses) == 1 else list(addresses),
        "fromBlock": hex(first),
        "toBlock": hex(last),
        "topics": [list(topics)],
    }


def _logs(raw: list[dict[str, Any]]) -> list[Log]:
    return [
        Log(
            log["address"],
            log["topics"],
            _hex_bytes(log["data"]),
            int(log["blockNumber"], 16),
            log["blockHash"],
        )
        for log in raw
        if not log.get("removed")
    ]


def _hex_bytes(value: str) -> bytes:
    return bytes.fromhex(value[2:])
