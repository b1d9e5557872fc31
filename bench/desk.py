"""The desk's private context transfer: seal + store and fetch + open of a 100 KB conversation, through
the team's HTTP content store on 127.0.0.1 (the way a worker reads it); writes bench/out/desk.json.

Measured here: `seal_store_ms`, `fetch_open_ms` (median and p95 over the runs); bench/desk_posts.py adds
`posts_per_s` and `rss_mb_10k_open_jobs` to the same file.
"""

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

# this file's folder would shadow the `escalation` package it measures
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from eth_account import Account  # noqa: E402
from nacl.public import PrivateKey  # noqa: E402

from escalation.desk.content_server import content_app  # noqa: E402
from escalation.desk.serving import ServerThread  # noqa: E402
from protocol_core.content import ContentClient, FolderStore  # noqa: E402
from protocol_core.context import ContextBundle, Message  # noqa: E402
from protocol_core.sealing import open_context, seal  # noqa: E402

OUT = Path(__file__).resolve().parent / "out" / "desk.json"
RUNS = 200
ESCROW = "0x5FbDB2315678afecb367f032d93F642f64180aa3"


def conversation(size: int = 100_000) -> ContextBundle:
    """A bundle whose conversation is about `size` bytes of mixed-language text."""
    line = "Customer: mi tarjeta fue cobrada dos veces — bitte erstatten Sie den Betrag, merci. "
    messages = []
    total, ts = 0, 1_750_000_000
    while total < size:
        text = line * 20
        messages.append(Message(role="customer" if len(messages) % 2 == 0 else "agent", text=text, ts=ts))
        total, ts = total + len(text.encode()), ts + 60
    return ContextBundle(
        ticket_ref="T-BENCH", language="en", issue="Double charge", conversation=tuple(messages),
        acceptance_criteria=("Refund the duplicate charge",),
    )  # fmt: skip


def main() -> None:
    agent, worker = Account.create(), Account.create()
    key = PrivateKey.generate()
    bundle = conversation()
    with tempfile.TemporaryDirectory() as folder:
        server = ServerThread(content_app(FolderStore(Path(folder)), "bench-key")).start()
        try:
            writer = ContentClient(store_url=server.url, api_key="bench-key")
            reader = ContentClient(reader=worker)
            seal_ms, open_ms = [], []
            for _ in range(RUNS):
                start = time.perf_counter()
                envelope = seal(bundle.canonical(), kind="context", signer=agent, sender=agent.address,
                                recipient=worker.address, recipient_key=bytes(key.public_key), chain_id=137,
                                escrow=ESCROW)  # fmt: skip
                blob = envelope.canonical()
                uri = writer.put(blob)
                middle = time.perf_counter()
                opened = open_context(reader.get(uri, envelope.digest()), key, agent=agent.address,
                                      spec_hash=bundle.spec_hash())  # fmt: skip
                end = time.perf_counter()
                assert opened == bundle
                seal_ms.append((middle - start) * 1000)
                open_ms.append((end - middle) * 1000)
        finally:
            server.stop()
    figures = {
        "conversation_bytes": len(bundle.canonical()),
        "envelope_bytes": len(blob),
        "runs": RUNS,
        "seal_store_ms": round(statistics.median(seal_ms), 2),
        "seal_store_p95_ms": round(statistics.quantiles(seal_ms, n=20)[18], 2),
        "fetch_open_ms": round(statistics.median(open_ms), 2),
        "fetch_open_p95_ms": round(statistics.quantiles(open_ms, n=20)[18], 2),
    }
    figures = {**(json.loads(OUT.read_text()) if OUT.exists() else {}), **figures}  # keeps desk_posts.py's
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
