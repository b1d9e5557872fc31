"""Simulated workers' tools as one real process: each worker has its own key, registers, takes the
desk's signed offers over HTTP and answers each after its delay (acceptJob on chain) or never.

Run as `python -m devtools.offer_workers --spec FILE` (the spec holds the workers, with their keys
only in OFFER_WORKERS_KEYS, a JSON map name -> key, and the desk's HMAC secret in
OFFER_WORKERS_SECRET); `OfferWorkers` starts it through the shared daemon launcher. Every offer and
answer is a JSON line in the events file, which the tests read.
"""

import argparse
import hashlib
import hmac
import json
import os
import sys
import threading
import time
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from eth_account import Account
from web3 import Web3
from web3.exceptions import ContractLogicError

from protocol_core.abi import abi
from protocol_core.terms import JobTerms

from .chain import free_port
from .daemons import Daemon

KEYS_ENV, SECRET_ENV = "OFFER_WORKERS_KEYS", "OFFER_WORKERS_SECRET"
SIGNATURE_HEADER = "X-Desk-Signature"  # as escalation.desk.notices signs (devtools does not import it)
PROFILE_KEY = b"\x11" * 32  # the X25519 key registered; the simulation never opens a sealed context


@dataclass(frozen=True)
class SimulatedWorker:
    """One worker: what it registers, and how long it takes to accept an offer (None: never)."""

    name: str
    languages: int
    delay: float | None
    expertise: int = 1
    capacity: int = 1
    register_at_start: bool = True  # else when POST /register/<name> asks (a worker who signs up later)


class Tools:
    """The workers' side: their keys, the contracts, and what each does with an offer."""

    def __init__(
        self, rpc_url: str, registry: str, escrow: str, events: Path, workers: list[SimulatedWorker]
    ):
        self.w3 = Web3(Web3.HTTPProvider(rpc_url))
        keys = json.loads(os.environ[KEYS_ENV])
        self.accounts = {w.name: Account.from_key(keys[w.name]) for w in workers}
        self.workers = {w.name: w for w in workers}
        self.secret = os.environ[SECRET_ENV].encode()
        self.registry = self.w3.eth.contract(
            address=Web3.to_checksum_address(registry), abi=abi("WorkerRegistry")
        )
        self.escrow = self.w3.eth.contract(address=Web3.to_checksum_address(escrow), abi=abi("JobEscrow"))
        self.events = events
        self._lock = threading.Lock()  # one sender at a time: nonces stay in order

    def note(self, name: str, **event: Any) -> None:
        with self._lock, self.events.open("a") as out:
            out.write(json.dumps({"at": time.time(), "worker": name, **event}) + "\n")

    def send(self, name: str, call: Any) -> str:
        """Signs and sends `call` as worker `name`, waits for the receipt; 'ok', else why not."""
        account = self.accounts[name]
        with self._lock:
            try:
                tx = call.build_transaction({
                    "from": account.address, "chainId": self.w3.eth.chain_id,
                    "nonce": self.w3.eth.get_transaction_count(account.address, "pending"),
                })  # fmt: skip
            except ContractLogicError as error:  # the dry run: taken, full, no longer eligible
                return f"refused: {error}"
            sent = self.w3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction)
            receipt = self.w3.eth.wait_for_transaction_receipt(sent, timeout=30)
        return "ok" if receipt["status"] == 1 else "reverted"

    def register(self, name: str) -> str:
        w = self.workers[name]
        call = self.registry.functions.register(
            w.languages, w.expertise, w.capacity, PROFILE_KEY, "ipfs://sim"
        )
        outcome = self.send(name, call)
        self.note(name, event="registered", outcome=outcome, address=self.accounts[name].address.lower())
        return outcome

    def offered(self, name: str, body: dict[str, Any]) -> None:
        """Answers the offer after the worker's delay, or never."""
        self.note(
            name, event="offer", desk_id=body["desk_id"], score=body["score"], answer_by=body["answer_by"]
        )
        delay = self.workers[name].delay
        if delay is None:
            return

        def answer() -> None:
            terms = JobTerms.model_validate(body["terms"]).as_abi()
            outcome = self.send(name, self.escrow.functions.acceptJob(terms))
            self.note(name, event="answer", desk_id=body["desk_id"], outcome=outcome)

        threading.Timer(delay, answer).start()


def serve(tools: Tools, port: int) -> None:
    """POST /offer/<name> (signed by the desk), POST /register/<name>, GET /readyz; on 127.0.0.1."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/readyz" else 404)
            self.end_headers()

        def do_POST(self) -> None:
            _, action, name = [*self.path.split("/"), "", ""][:3]
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if name not in tools.workers:
                self.send_response(404)
            elif action == "register":
                self.send_response(200 if tools.register(name) == "ok" else 500)
            elif not hmac.compare_digest(
                hmac.new(tools.secret, body, hashlib.sha256).hexdigest(),
                self.headers.get(SIGNATURE_HEADER, ""),
            ):
                tools.note(name, event="bad_signature")
                self.send_response(401)
            else:
                tools.offered(name, json.loads(body))
                self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return None

    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


def main(argv: list[str] | None = None) -> None:
    """Registers the workers due at start, then serves until stopped."""
    parser = argparse.ArgumentParser(prog="offer_workers")
    for option in ("--spec", "--rpc-url", "--registry", "--escrow", "--events"):
        parser.add_argument(option, required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    workers = [SimulatedWorker(**w) for w in json.loads(Path(args.spec).read_text())]
    tools = Tools(args.rpc_url, args.registry, args.escrow, Path(args.events), workers)
    for w in workers:
        if w.register_at_start and (outcome := tools.register(w.name)) != "ok":
            sys.exit(f"offer_workers: registering {w.name} failed: {outcome}")
    serve(tools, args.port)


class OfferWorkers(Daemon):
    """The simulated workers' process; ready once the workers due at start are registered."""

    def __init__(self, workdir: Path, rpc: str, addresses: Any, secret: str, workers: list[SimulatedWorker],
                 keys: dict[str, bytes]) -> None:  # fmt: skip
        self.addresses = {name: Account.from_key(key).address.lower() for name, key in keys.items()}
        self.events_path = workdir / "offer-workers.jsonl"
        spec = workdir / "offer-workers.json"
        spec.write_text(json.dumps([asdict(w) for w in workers]))
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        argv = [
            sys.executable, "-m", "devtools.offer_workers", "--spec", str(spec), "--rpc-url", rpc,
            "--registry", addresses.registry, "--escrow", addresses.escrow, "--events", str(self.events_path),
            "--port", str(port),
        ]  # fmt: skip
        env = {KEYS_ENV: json.dumps({n: "0x" + k.hex() for n, k in keys.items()}), SECRET_ENV: secret}
        super().__init__("offer-workers", argv, port=port, workdir=workdir, env=env)

    def hooks(self) -> dict[str, str]:
        """Worker address -> its offer webhook, for the desk's offer_hooks."""
        return {address: f"{self.base}/offer/{name}" for name, address in self.addresses.items()}

    def register(self, name: str) -> None:
        """The worker signs up now (its registration mined when this returns)."""
        httpx.post(f"{self.base}/register/{name}", timeout=60).raise_for_status()

    def events(self, name: str, kind: str) -> list[dict[str, Any]]:
        """What worker `name` saw or did of `kind` (offer, answer, registered, bad_signature)."""
        if not self.events_path.exists():
            return []
        found = [json.loads(line) for line in self.events_path.read_text().splitlines() if line]
        return [e for e in found if e["worker"] == name and e["event"] == kind]


if __name__ == "__main__":
    main()
