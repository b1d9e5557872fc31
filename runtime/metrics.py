"""Prometheus metrics in a registry per daemon: the helpers to declare them, and the runtime's own."""

from collections.abc import Sequence

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

READY_LAG = 3  # blocks behind the head that still count as caught up


class Metrics:
    """A registry of one daemon's metrics, each named `<prefix>_<name>`; instances never share samples."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.registry = CollectorRegistry(auto_describe=True)

    def render(self) -> bytes:
        """All metrics in the Prometheus text exposition format (version 0.0.4)."""
        return generate_latest(self.registry)

    def counter(self, name: str, documentation: str, *labels: str) -> Counter:
        """A counter `<prefix>_<name>_total` in this registry."""
        return Counter(f"{self.prefix}_{name}", documentation, labels, registry=self.registry)

    def gauge(self, name: str, documentation: str) -> Gauge:
        """A gauge `<prefix>_<name>` in this registry."""
        return Gauge(f"{self.prefix}_{name}", documentation, registry=self.registry)

    def histogram(self, name: str, documentation: str, buckets: Sequence[float]) -> Histogram:
        """A histogram `<prefix>_<name>` with `buckets` in this registry."""
        return Histogram(f"{self.prefix}_{name}", documentation, buckets=buckets, registry=self.registry)


class RuntimeMetrics(Metrics):
    """What the runtime reports for any daemon: chain position, reorgs and the transactions it sent."""

    def __init__(self, prefix: str) -> None:
        super().__init__(prefix)
        self.head_block = self.gauge("head_block", "Latest block number seen from the RPC")
        self.cursor_block = self.gauge("cursor_block", "Last block whose logs are ingested")
        self.lag_blocks = self.gauge("lag_blocks", "Blocks between the chain head and the cursor")
        self.reorgs = self.counter("reorgs", "Reorgs detected by block hash")
        self.pending_transactions = self.gauge("pending_transactions", "Transactions sent and not yet mined")
        self.transactions_sent = self.counter(
            "transactions_sent", "Transactions broadcast, replacements included"
        )
        self.gas_bumps = self.counter("gas_bumps", "Fee bumps of stuck transactions")
        self.stale_reads = self.counter(
            "stale_reads", "Answers from an RPC behind what the daemon has seen, asked again later"
        )
        self.foreign_nonces = self.counter(
            "foreign_nonces", "Nonces of the key used by transactions the daemon did not sign"
        )

    def position(self, head: int, cursor: int) -> tuple[bool, str]:
        """Records the head and the cursor; whether that is caught up, and how far behind, for /readyz."""
        self.head_block.set(head)
        self.cursor_block.set(cursor)
        self.lag_blocks.set(head - cursor)
        return head - cursor <= READY_LAG, f"{head - cursor} blocks behind the head"
