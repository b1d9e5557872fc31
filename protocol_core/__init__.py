"""What every role of the escalation protocol shares: job terms, deployment, bindings."""
