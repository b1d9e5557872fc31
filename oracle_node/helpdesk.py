"""Asks the operator's helpdesk whether a ticket is solved."""

import logging
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

import httpx

from oracle_node.errors import HelpdeskAuthError, HelpdeskConfigError, TransientFetchError

log = logging.getLogger(__name__)
_MISSING = object()


class HelpdeskCheck:
    """Reads a ticket's status from the helpdesk API; an answer it cannot read counts as not solved."""

    def __init__(
        self,
        url_template: str,
        auth_header: str,
        token: str,
        json_path: str,
        solved_values: Iterable[str],
        timeout: float,
        client: httpx.Client | None = None,
    ) -> None:
        try:
            probe = url_template.format(ticket_ref="")
        except (KeyError, IndexError, ValueError) as exc:
            raise HelpdeskConfigError(
                f"helpdesk_url {url_template!r} is not a template with only {{ticket_ref}}: {exc!r}"
            ) from exc
        if probe == url_template:
            raise HelpdeskConfigError(f"helpdesk_url {url_template!r} must contain {{ticket_ref}}")
        self._template = url_template
        self._headers = {auth_header: token} if token else {}
        self._path = [part for part in json_path.split(".") if part]
        self._solved = {value.casefold() for value in solved_values}
        self._timeout = timeout
        self._owns_client = client is None
        self._client = client if client is not None else httpx.Client()

    def is_solved(self, ticket_ref: str) -> bool:
        """Whether the helpdesk reports `ticket_ref` solved; TransientFetchError when it may answer later."""
        url = self._template.format(ticket_ref=quote(ticket_ref, safe=""))
        try:
            response = self._client.get(url, headers=self._headers, timeout=self._timeout)
        except httpx.TransportError as exc:
            raise TransientFetchError(f"helpdesk {url}: {type(exc).__name__} {exc}; will retry") from exc
        except httpx.HTTPError as exc:
            log.warning(
                "helpdesk %s sent an unreadable response (%s); counting the ticket as not solved", url, exc
            )
            return False
        status = response.status_code
        if status in (401, 403):
            raise HelpdeskAuthError(
                f"helpdesk refused the node's credentials ({status} at {url}); "
                "check ORACLE_NODE_HELPDESK_TOKEN and ORACLE_NODE_HELPDESK_AUTH_HEADER"
            )
        if status == 429 or status >= 500:
            raise TransientFetchError(f"helpdesk {url} answered {status}; will retry")
        if status == 404:
            return False
        try:
            value = _lookup(response.json(), self._path) if status == 200 else _MISSING
        except ValueError:
            value = _MISSING
        # Fail closed: a helpdesk answering nonsense has not said the ticket is solved.
        if value is _MISSING or isinstance(value, bool) or not isinstance(value, str | int):
            log.warning(
                "helpdesk %s answered %s without a status at %r; counting the ticket as not solved",
                url,
                status,
                ".".join(self._path),
            )
            return False
        return str(value).casefold() in self._solved

    def close(self) -> None:
        """Closes the HTTP client if this check created it."""
        if self._owns_client:
            self._client.close()


def _lookup(document: Any, path: list[str]) -> Any:
    """The value at a dotted path; list items by index (items.0.status); _MISSING when absent."""
    for part in path:
        if isinstance(document, dict) and part in document:
            document = document[part]
        elif isinstance(document, list) and part.isascii() and part.isdigit() and int(part) < len(document):
            document = document[int(part)]
        else:
            return _MISSING
    return document
