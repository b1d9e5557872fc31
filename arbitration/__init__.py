"""The arbitrator's client: a daemon that never loses a vote, and the `arbitrator` CLI."""
