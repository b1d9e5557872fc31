"""The four detectors; each returns a score in [0, 1], whether it fired, and machine-readable reasons."""
