"""A support operation simulated on a local chain with every part running as the real thing: the
ticket stream, the escalation engine, the desk, the indexer, specialists using the SDK's worker half,
three oracle nodes and arbitrator daemons. `make demo` runs it; its figures feed the manager's report."""
