"""First run and every start: create a wallet (phrase shown once, confirmed), import one, unlock, lock;
and the profile in plain words, changed by a relayed signature."""

import secrets

from fastapi import FastAPI, Request
from fastapi.responses import Response

from ..errors import BadInput, WorkerError
from ..profile import read_profile, save_profile, set_available
from ..wallet import MIN_PASSPHRASE, PHRASE_WORDS, from_secret, keys_of, new_wallet
from .app import back, checked_form, render, session_of
from .app import keys_of as session_keys
from .security import PendingWallet


def routes(app: FastAPI) -> None:
    core = app.state.core

    @app.get("/")
    def home(request: Request) -> Response:
        if not core.keystore.exists():
            return back("/wallet/new")
        return back("/jobs" if session_of(request).keys else "/unlock")

    @app.get("/wallet/new")
    def wallet_new(request: Request) -> Response:
        if core.keystore.exists():
            return back("/unlock")
        return render(request, "wallet_new.html", min_passphrase=MIN_PASSPHRASE)

    @app.post("/wallet/create")
    async def wallet_create(request: Request) -> Response:
        form = await checked_form(request)
        passphrase = form.get("passphrase", "")
        try:
            if core.keystore.exists():
                raise BadInput(detail="refusal.wallet_exists_unlock")
            if len(passphrase) < MIN_PASSPHRASE:
                raise BadInput(detail="refusal.short_passphrase", minimum=MIN_PASSPHRASE)
            if passphrase != form.get("repeat", ""):
                raise BadInput(detail="refusal.passphrases_differ")
        except WorkerError as error:
            return render(request, "wallet_new.html", 400, error=error, min_passphrase=MIN_PASSPHRASE)
        first, second = sorted(secrets.SystemRandom().sample(range(1, PHRASE_WORDS + 1), 2))
        session_of(request).pending = PendingWallet(new_wallet(), passphrase, (first, second))
        return back("/wallet/phrase")

    @app.get("/wallet/phrase")
    def wallet_phrase(request: Request) -> Response:
        pending = session_of(request).pending
        if pending is None:
            return back("/wallet/new")
        words = None if pending.shown else pending.wallet.phrase.split()
        pending.shown = True  # shown once: a reload shows the confirmation only
        return render(request, "wallet_phrase.html", words=words, positions=pending.positions)

    @app.post("/wallet/confirm")
    async def wallet_confirm(request: Request) -> Response:
        form = await checked_form(request)
        session = session_of(request)
        pending = session.pending
        if pending is None:
            return back("/wallet/new")
        words = pending.wallet.phrase.split()
        typed = (form.get("word1", "").strip().lower(), form.get("word2", "").strip().lower())
        if typed != (words[pending.positions[0] - 1], words[pending.positions[1] - 1]):
            error = BadInput(
                f"words {pending.positions[0]} and {pending.positions[1]} do not match your phrase"
            )
            return render(
                request, "wallet_phrase.html", 400, words=None, positions=pending.positions, error=error
            )
        core.keystore.save(pending.wallet.account, pending.passphrase)
        session.keys, session.pending = keys_of(pending.wallet.account), None
        return back("/profile")

    @app.post("/wallet/import")
    async def wallet_import(request: Request) -> Response:
        form = await checked_form(request)
        try:
            account = from_secret(form.get("secret", ""))
            if form.get("passphrase", "") != form.get("repeat", ""):
                raise BadInput(detail="refusal.passphrases_differ")
            core.keystore.save(account, form.get("passphrase", ""))
        except WorkerError as error:
            return render(request, "wallet_new.html", 400, error=error, min_passphrase=MIN_PASSPHRASE)
        session_of(request).keys = keys_of(account)
        return back("/profile")

    @app.get("/unlock")
    def unlock_page(request: Request) -> Response:
        if not core.keystore.exists():
            return back("/wallet/new")
        return render(request, "unlock.html", wallet=core.keystore.address())

    @app.post("/unlock")
    async def unlock(request: Request) -> Response:
        form = await checked_form(request)
        session = session_of(request)
        try:
            session.keys = core.keystore.unlock(form.get("passphrase", ""))
        except WorkerError as error:
            return render(request, "unlock.html", 400, error=error, wallet=core.keystore.address())
        session.locked_by_timeout = False
        return back("/jobs")

    @app.post("/lock")
    async def lock(request: Request) -> Response:
        await checked_form(request)
        session_of(request).keys = None
        return back("/unlock")

    @app.get("/profile")
    def profile_page(request: Request) -> Response:
        keys = session_keys(request)
        profile = read_profile(core, keys.address, keys.public_x25519)
        return render(
            request,
            "profile.html",
            profile=profile,
            settings=core.settings,
            sent=request.query_params.get("sent"),
        )

    @app.post("/profile")
    async def profile_save(request: Request) -> Response:
        keys = session_keys(request)
        form = await checked_form(request)
        try:
            jobs_at_once = int(form.get("max_concurrent", "0") or "0")
            save_profile(core, keys, form.getlist("languages"), form.getlist("expertise"), jobs_at_once)
        except (WorkerError, ValueError) as error:
            profile = read_profile(core, keys.address, keys.public_x25519)
            return render(request, "profile.html", 400, profile=profile, settings=core.settings, error=error)
        return back("/profile?sent=profile")

    @app.post("/availability")
    async def availability(request: Request) -> Response:
        keys = session_keys(request)
        form = await checked_form(request)
        set_available(core, keys, form.get("available") == "1")
        return back("/profile?sent=availability")
