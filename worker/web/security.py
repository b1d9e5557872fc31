"""What keeps the app the worker's own: loopback Host only, a session per browser in memory (HttpOnly,
SameSite=Strict cookie), a CSRF token on every form, and the wallet locked after inactivity."""

import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.responses import PlainTextResponse, Response

from ..wallet import Keys, NewWallet

COOKIE = "worker_session"
LOOPBACK = ("127.0.0.1", "localhost", "[::1]")
LIVE_PREFIX = "/live/"  # polled fragments: they do not count as the worker's activity


@dataclass
class PendingWallet:
    """A wallet whose phrase was shown but not yet confirmed: nothing is saved before that."""

    wallet: NewWallet
    passphrase: str
    positions: tuple[int, int]  # the words (1-based) the worker types back
    shown: bool = False


@dataclass
class Session:
    """One browser's session: its CSRF token, the unlocked keys (memory only) and its last activity."""

    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    keys: Keys | None = None
    last_seen: float = field(default_factory=time.monotonic)
    pending: PendingWallet | None = None
    locked_by_timeout: bool = False

    def touch(self, lock_after: float, active: bool) -> None:
        """Locks the wallet when the worker was away too long; counts this request as activity if `active`."""
        now = time.monotonic()
        if self.keys is not None and now - self.last_seen > lock_after:
            self.keys, self.locked_by_timeout = None, True
        if active:
            self.last_seen = now


class Sessions:
    """The sessions by their cookie's random token."""

    def __init__(self) -> None:
        self._by_token: dict[str, Session] = {}
        self._lock = threading.Lock()

    def get(self, token: str | None) -> tuple[str, Session]:
        with self._lock:
            if token and token in self._by_token:
                return token, self._by_token[token]
            token = secrets.token_urlsafe(32)
            self._by_token[token] = Session()
            return token, self._by_token[token]

    def lock_all(self) -> None:
        with self._lock:
            for session in self._by_token.values():
                session.keys = None


def loopback_host(host_header: str | None) -> bool:
    """True when the Host names the loopback interface (any port)."""
    host = (host_header or "").strip().lower()
    name = host.rsplit(":", 1)[0] if not host.startswith("[") else host.split("]")[0] + "]"
    return name in LOOPBACK


class Guard(BaseHTTPMiddleware):
    """Refuses a non-loopback Host (DNS rebinding), attaches the session, sets the cookie and headers."""

    def __init__(self, app: Any, sessions: Sessions, lock_after: float) -> None:
        super().__init__(app)
        self.sessions, self.lock_after = sessions, lock_after

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        if not loopback_host(request.headers.get("host")):
            return PlainTextResponse("This app answers only on 127.0.0.1 (localhost).", status_code=421)
        cookie = f"{COOKIE}_{request.url.port}"  # cookies ignore ports: two apps on loopback keep apart
        token, session = self.sessions.get(request.cookies.get(cookie))
        session.touch(self.lock_after, active=not request.url.path.startswith(LIVE_PREFIX))
        request.state.session = session
        began = time.perf_counter()
        response = await call_next(request)
        response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - began) * 1000:.1f}"
        response.set_cookie(cookie, token, httponly=True, samesite="strict", path="/")
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'; "
            "form-action 'self'"
        )
        return response


def csrf_ok(session: Session, form: Any, header: str | None) -> bool:
    """The form's (or htmx's header) token is the session's."""
    given = str(form.get("csrf") or header or "")
    return secrets.compare_digest(given, session.csrf)
