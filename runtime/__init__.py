"""The daemon runtime every role shares: JSON-RPC, a reorg-safe log cursor, a persisted sender, the
database, health and metrics, JSON-lines logs, the keystore and the run loop. Imports no daemon."""
