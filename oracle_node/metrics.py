"""The node's Prometheus metrics: the runtime's, plus verdicts, events, latency and retries."""

from runtime.metrics import RuntimeMetrics

PREFIX = "oracle_node"
# Evidence mined to attestation mined: a block or two on a local chain, tens of seconds on a busy one.
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 7.5, 10.0, 15.0, 20.0, 30.0)


class NodeMetrics(RuntimeMetrics):
    """Counters, gauges and the latency histogram of one node; each instance has its own registry."""

    def __init__(self) -> None:
        super().__init__(PREFIX)
        self.events_seen = self.counter("events_seen", "Escrow events ingested, by event name", "event")
        self.verdicts = self.counter("verdicts", "Verdicts, by outcome and reason code", "approve", "reason")
        self.attestation_latency_seconds = self.histogram(
            "attestation_latency_seconds",
            "Seconds from the evidence's block to the attestation's block",
            LATENCY_BUCKETS,
        )
        self.verification_retries = self.counter("verification_retries", "Verifications retried after errors")
        self.operator_stake = self.gauge("operator_stake", "The operator's stake on the oracle (token units)")
        self.operator_in_set = self.gauge("operator_in_set", "1 when the operator is in the operator set")
        self.relay_intake = self.counter("relay_intake", "Evidence handed in by HTTP, by outcome", "status")
        self.relay_signatures = self.counter(
            "relay_signatures", "Peer signatures received, by outcome", "status"
        )
        self.relay_sends = self.counter("relay_sends", "Relayed transactions sent, by function", "kind")
        self.operator_can_attest = self.gauge(
            "operator_can_attest", "1 when the operator is in the set with at least minStake staked"
        )
