"""Fixtures of the worker app's tests: the deployed anvil state the process tests share."""

from tests.e2e.conftest import deployed_state  # noqa: F401  (one deployment per session, saved as anvil state)
