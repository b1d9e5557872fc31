"""The node's Prometheus metrics, in a registry of their own."""

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

PREFIX = "oracle_node"
# Evidence mined to attestation mined: a block or two on a local chain, tens of seconds on a busy one.
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 7.5, 10.0, 15.0, 20.0, 30.0)


class NodeMetrics:
    """Counters, gauges and the latency histogram of one node; each instance has its own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        counter, gauge = self._counter, self._gauge
        self.events_seen = counter("events_seen", "Escrow events ingested, by event name", "event")
        self.verdicts = counter("verdicts", "Verdicts, by outcome and reason code", "approve", "reason")
        self.lag_blocks = gauge("lag_blocks", "Blocks between the chain head and the cursor")
        self.head_block = gauge("head_block", "Latest block number seen from the RPC")
        self.cursor_block = gauge("cursor_block", "Last block whose logs are ingested")
        self.reorgs = counter("reorgs", "Reorgs detected by block hash")
        self.attestation_latency_seconds = Histogram(
            f"{PREFIX}_attestation_latency_seconds",
            "Seconds from the evidence's block to the attestation's block",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.pending_transactions = gauge("pending_transactions", "Attestations sent and not yet mined")
        self.transactions_sent = counter("transactions_sent", "Transactions broadcast, replacements included")
        self.gas_bumps = counter("gas_bumps", "Fee bumps of stuck transactions")
        self.verification_retries = counter("verification_retries", "Verifications retried after errors")

    def render(self) -> bytes:
        """All metrics in the Prometheus text exposition format (version 0.0.4)."""
        return generate_latest(self.registry)

    def _counter(self, name: str, documentation: str, *labels: str) -> Counter:
        return Counter(f"{PREFIX}_{name}", documentation, labels, registry=self.registry)

    def _gauge(self, name: str, documentation: str) -> Gauge:
        return Gauge(f"{PREFIX}_{name}", documentation, registry=self.registry)
