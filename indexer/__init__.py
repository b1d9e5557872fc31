"""The protocol's read model (workers, jobs, operators, arbitrators, disputes) kept in SQL from events."""
