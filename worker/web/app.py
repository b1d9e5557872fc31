"""The app: its pages' shared context (catalogue, session, money format), the chain follower thread,
static files (htmx from npm, served from the repository's node_modules), and the routes' modules."""

import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from ..core import Core
from ..errors import (
    BadInput,
    ChainUnavailable,
    DeskUnavailable,
    Locked,
    Refused,
    TamperedContext,
    WorkerError,
    WrongPassphrase,
)
from ..i18n import LANGUAGES, pick, translate
from ..money import usdc
from ..wallet import Keys
from .security import Guard, Session, Sessions, csrf_ok

PACKAGE = Path(__file__).resolve().parents[1]
HTMX = PACKAGE.parent / "node_modules" / "htmx.org" / "dist" / "htmx.min.js"
templates = Jinja2Templates(directory=str(PACKAGE / "templates"))


def when(timestamp: int | None) -> str:
    """A unix time as the worker reads it (UTC)."""
    return "-" if not timestamp else time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(timestamp))


class Follower:
    """Keeps the job index up to date in the background; remembers whether the chain answers."""

    def __init__(self, core: Core) -> None:
        self.core, self.error, self.synced_at = core, "", 0.0
        self.failure: WorkerError | None = None  # the last pass's refusal, said in the reader's language
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="worker-follower", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.pass_once()
            self._stop.wait(self.core.settings.poll_s)

    def pass_once(self) -> None:
        try:
            self.core.index.sync(self.core.chain)
            self.error, self.failure, self.synced_at = "", None, time.time()
        except WorkerError as error:
            self.error, self.failure = str(error), error
        except Exception as error:  # an RPC answering nonsense must not end the thread
            self.error, self.failure = f"{type(error).__name__}: {error}", None


def session_of(request: Request) -> Session:
    return request.state.session  # type: ignore[no-any-return]


def keys_of(request: Request) -> Keys:
    """The unlocked keys; Locked when the wallet is locked."""
    keys = session_of(request).keys
    if keys is None:
        raise Locked(detail="refusal.locked")
    return keys


def lang_of(request: Request) -> str:
    return pick(request.headers.get("accept-language"), request.cookies.get("lang"))


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page or fragment with the shared context."""
    lang = lang_of(request)
    session = session_of(request)
    follower: Follower = request.app.state.follower
    values = {
        "t": lambda key, **kw: translate(lang, key, **kw), "lang": lang, "languages": LANGUAGES,
        "csrf": session.csrf, "unlocked": session.keys is not None, "usdc": usdc, "when": when,
        "told": lambda error: error.told(lang) if isinstance(error, WorkerError) else str(error),
        "chain_error": follower.failure.told(lang) if follower.failure else follower.error,
        "address": session.keys.address if session.keys else None, "timed_out": session.locked_by_timeout,
        **context,
    }  # fmt: skip
    return templates.TemplateResponse(request, name, values, status_code=status)


def error_status(error: WorkerError) -> int:
    """The HTTP status a page answers with when an action fails."""
    table: dict[type, int] = {BadInput: 400, WrongPassphrase: 400, Refused: 409, TamperedContext: 422,
                              ChainUnavailable: 503, DeskUnavailable: 503, Locked: 401}  # fmt: skip
    return next((code for kind, code in table.items() if isinstance(error, kind)), 400)


class Form:
    """A submitted form's text fields."""

    def __init__(self, data: Any) -> None:
        self._data = data

    def get(self, name: str, default: str = "") -> str:
        value = self._data.get(name)
        return default if value is None else str(value)

    def getlist(self, name: str) -> list[str]:
        return [str(v) for v in self._data.getlist(name)]


async def checked_form(request: Request) -> Form:
    """The form's fields, after the CSRF token is checked (WorkerError when it is not the session's)."""
    form = await request.form()
    if not csrf_ok(session_of(request), form, request.headers.get("x-csrf-token")):
        raise CsrfError(detail="refusal.csrf")
    return Form(form)


class CsrfError(WorkerError):
    """A form without the session's CSRF token."""

    key = "error.csrf"


def back(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def create_app(core: Core, follow: bool = True) -> FastAPI:
    """The worker's app over `core`; with `follow`, a thread keeps the job index current."""
    follower = Follower(core)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if follow:
            follower.start()
        yield
        follower.stop()

    app = FastAPI(title="Worker", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    sessions = Sessions()
    app.state.core, app.state.sessions, app.state.follower = core, sessions, follower
    app.add_middleware(Guard, sessions=sessions, lock_after=core.settings.lock_after_s)

    @app.exception_handler(WorkerError)
    async def worker_error(request: Request, error: WorkerError) -> Response:
        if isinstance(error, Locked):
            return back("/unlock")
        return render(request, "error.html", error_status(error), error=error)

    @app.get("/healthz")
    def healthz() -> dict[str, object]:
        follower = app.state.follower
        return {"ok": True, "chain_error": follower.error, "block": core.index.cursor()}

    @app.get("/static/htmx.min.js")
    def htmx() -> Response:
        return (
            FileResponse(HTMX, media_type="text/javascript") if HTMX.exists() else Response(status_code=404)
        )

    @app.get("/static/app.css")
    def css() -> Response:
        return FileResponse(PACKAGE / "static" / "app.css", media_type="text/css")

    @app.post("/lang")
    async def language(request: Request) -> Response:
        form = await checked_form(request)
        target = form.get("next", "/")
        response = back(target if target.startswith("/") and not target.startswith("//") else "/")
        if form.get("lang") in LANGUAGES:
            response.set_cookie("lang", form.get("lang"), httponly=True, samesite="strict", path="/")
        return response

    from . import jobs_routes, money_routes, wallet_routes

    for module in (wallet_routes, jobs_routes, money_routes):
        module.routes(app)
    return app
