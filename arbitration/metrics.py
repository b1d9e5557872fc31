"""The arbitrator daemon's Prometheus metrics: the runtime's, plus seats, votes and keeper calls."""

from runtime.metrics import RuntimeMetrics

PREFIX = "arbitrator"
LATENCY_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0)


class ArbitratorMetrics(RuntimeMetrics):
    """Counters and gauges of one arbitrator daemon; each instance has its own registry."""

    def __init__(self) -> None:
        super().__init__(PREFIX)
        self.seats = self.counter("seats", "Seats I was drawn to")
        self.votes_sent = self.counter("votes_sent", "Commits and reveals sent, by step", "step")
        self.votes_missed = self.counter("votes_missed", "Phases that ended without my step, by step", "step")
        self.keeper_calls = self.counter("keeper_calls", "Keeper calls sent, by action", "action")
        self.reveal_latency_seconds = self.histogram(
            "reveal_latency_seconds",
            "Seconds from the pass that found the reveal due to its mining",
            LATENCY_BUCKETS,
        )
        self.free_stake = self.gauge("free_stake", "Drawable stake not locked by draws (token units)")
