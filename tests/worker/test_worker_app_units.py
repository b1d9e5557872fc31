"""The worker app's parts that need no chain: the catalogue (English and Spanish complete), the wallet
(phrase and passphrase), money with two decimals, and the guard (loopback Host, CSRF, cookie, locking)."""

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from eth_account import Account
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from devtools.chain import free_port
from escalation.desk.worker_door import proven_worker
from escalation.desk.worker_door import worker_proof_message as door_message
from protocol_core.content import (
    EXPIRES_HEADER,
    READER_HEADER,
    SIGNATURE_HEADER,
    worker_headers,
    worker_proof_message,
)
from protocol_core.deployment import Addresses, save_deployment
from protocol_core.enums import JobStatus, Reason, RoundPhase, RulingOption
from worker import errors
from worker.core import build
from worker.errors import BadInput, WrongPassphrase
from worker.i18n import LANGUAGES, catalogue, pick
from worker.money import add_statement, usdc, withdraw
from worker.settings import CERTIFICATIONS, EXPERTISE, WorkerSettings
from worker.wallet import Keystore, from_secret, keys_of, new_wallet
from worker.web.app import create_app
from worker.work import OUTCOMES, STEPS

TEMPLATES = Path(__file__).resolve().parents[2] / "worker" / "templates"
ZERO = "0x" + "11" * 20


def test_catalogues_are_complete_in_english_and_spanish():
    english, spanish = catalogue("en"), catalogue("es")
    assert set(english) == set(spanish)
    assert all(spanish[key] and spanish[key] != english[key] for key in english if len(english[key]) > 12)
    pages = "".join(page.read_text() for page in TEMPLATES.glob("*.html"))
    literal = {key for key in re.findall(r't\("([a-z_.0-9]+)"', pages) if not key.endswith((".", "_"))}
    dynamic = {f"{kind}.{member.name.lower()}" for kind, enum in
               (("status", JobStatus), ("reason", Reason), ("next", Reason), ("phase", RoundPhase),
                ("ruling", RulingOption), ("vote", RulingOption)) for member in enum}  # fmt: skip
    dynamic |= {f"expertise.{n}" for n in EXPERTISE} | {f"cert.{n}" for n in CERTIFICATIONS}
    dynamic |= (
        {f"step.{s}" for s in STEPS} | {f"outcome.{o}" for o in OUTCOMES} | {f"lang.{c}" for c in LANGUAGES}
    )
    dynamic |= {
        "role.customer",
        "role.agent",
        "role.note",
        "profile.sent_profile",
        "profile.sent_availability",
    }
    sources = "".join(module.read_text() for module in TEMPLATES.parent.rglob("*.py"))
    refusals = set(re.findall(r'detail="(refusal\.[a-z_]+)"', sources))
    assert len(refusals) > 30  # every refusal the pages show is said in the reader's language
    assert {"refusal.nothing_to_withdraw", "refusal.dispute_cost", "refusal.statement_length"} <= refusals
    kinds = "|".join(
        k.__name__ for k in vars(errors).values() if isinstance(k, type) and k.__module__ == errors.__name__
    )
    paged = "".join(m.read_text() for m in TEMPLATES.parent.rglob("*.py") if not m.name.startswith("cli"))
    english_only = re.findall(rf"\b(?:{kinds})\(f?[\"']", paged)  # the CLI speaks English only
    assert not english_only, f"refusals with an English-only message, not a catalogue key: {english_only}"
    missing = (literal | dynamic | refusals) - set(english)
    assert not missing, f"keys used by the pages but not in the catalogue: {sorted(missing)}"
    assert {p for p in english.values() for p in re.findall(r"{(\w+)(?:![rs])?}", p)} == {
        p for p in spanish.values() for p in re.findall(r"{(\w+)(?:![rs])?}", p)
    }
    assert pick("es-ES,es;q=0.9", None) == "es" and pick("fr", None) == "en" and pick("es", "en") == "en"


def test_phrase_restores_the_wallet_and_its_x25519_key_and_a_wrong_passphrase_opens_nothing(tmp_path):
    made = new_wallet()
    store = Keystore(tmp_path, kdf_n=2**10)
    store.save(made.account, "a long passphrase")
    unlocked = store.unlock("a long passphrase")
    restored = keys_of(from_secret("  " + made.phrase.upper().lower() + "\n"))
    assert unlocked.address == restored.address == made.account.address
    assert unlocked.public_x25519 == restored.public_x25519 and len(restored.public_x25519) == 32
    with pytest.raises(WrongPassphrase, match="does not open this wallet"):
        store.unlock("a long passphrase!")
    assert made.phrase not in store.path.read_text() and store.path.stat().st_mode & 0o077 == 0


@given(st.integers(min_value=0, max_value=2**96))
def test_money_shows_two_decimals_and_never_more_than_is_there(amount):
    shown = usdc(amount)
    assert re.fullmatch(r"\d+\.\d\d", shown)
    exact = Decimal(amount) / 10**6
    assert Decimal(shown) <= exact < Decimal(shown) + Decimal("0.01")


@pytest.fixture
def app(tmp_path):
    """The app on a deployment whose chain is not there (the guard needs none); it locks at once when idle."""
    deployments = tmp_path / "deployments.json"
    save_deployment("polygon:local", Addresses(ZERO, ZERO, ZERO, ZERO, ZERO, ZERO), deployments)
    settings = WorkerSettings(home=tmp_path / "home", deployments_file=deployments, kdf_n=2**10,
                              rpc_url=f"http://127.0.0.1:{free_port()}", lock_after_s=0.0)  # fmt: skip
    core = build(settings)
    return core, TestClient(create_app(core, follow=False), base_url="http://127.0.0.1:8780")


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def test_guard_refuses_other_hosts_and_forms_without_the_token_and_sets_a_strict_cookie(app):
    core, client = app
    assert client.get("/wallet/new", headers={"Host": "evil.example:8780"}).status_code == 421
    assert client.get("/wallet/new", headers={"Host": "localhost:8780"}).status_code == 200
    page = client.get("/wallet/new")
    cookie = page.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "worker_session_8780=" in cookie
    assert (
        page.headers["cache-control"] == "no-store"
        and "frame-ancestors 'none'" in page.headers["content-security-policy"]
    )
    refused = client.post("/wallet/create", data={"passphrase": "x" * 12, "repeat": "x" * 12})
    assert refused.status_code == 400 and "reload the page" in refused.text
    forged = client.post("/wallet/create", data={"csrf": "guess", "passphrase": "x" * 12, "repeat": "x" * 12})
    assert forged.status_code == 400 and not core.keystore.exists()


def test_phrase_is_shown_once_and_the_wallet_locks_after_inactivity(app):
    core, client = app
    token = csrf_of(client.get("/wallet/new").text)
    short = client.post("/wallet/create", data={"csrf": token, "passphrase": "short", "repeat": "short"})
    assert short.status_code == 400 and "at least 10 characters" in short.text
    made = client.post("/wallet/create", data={"csrf": token, "passphrase": "x" * 12, "repeat": "x" * 12})
    assert made.status_code == 200 and made.url.path == "/wallet/phrase"
    words = re.findall(r"<li>(\w+)</li>", made.text)
    assert len(words) == 12 and not core.keystore.exists()  # saved only once confirmed
    again = client.get("/wallet/phrase")
    assert not set(re.findall(r"<li>(\w+)</li>", again.text)) & set(words)
    positions = [int(p) for p in re.findall(r'data-position="(\d+)"', again.text)]
    wrong = client.post("/wallet/confirm", data={"csrf": token, "word1": "nope", "word2": "nope"})
    assert wrong.status_code == 400 and not core.keystore.exists()
    answer = {"csrf": token, "word1": words[positions[0] - 1], "word2": words[positions[1] - 1]}
    confirmed = client.post("/wallet/confirm", data=answer, follow_redirects=False)
    assert confirmed.status_code == 303 and core.keystore.exists()
    assert (
        json.loads(core.keystore.path.read_text())["address"].lower()
        == Account.from_mnemonic(" ".join(words)).address[2:].lower()
    )
    locked = client.get("/profile", follow_redirects=False)
    assert locked.status_code == 303 and locked.headers["location"] == "/unlock"
    assert "away for a while" in client.get("/unlock").text


def test_the_workers_desk_proof_is_the_doors_message_and_proves_the_worker():
    account, job_id = Account.create(), "0x" + "AB" * 32
    assert worker_proof_message(job_id, 1_700_000_000) == door_message(job_id, 1_700_000_000)
    sent = worker_headers(account, job_id)
    proven = proven_worker(job_id.lower(), sent[READER_HEADER], sent[EXPIRES_HEADER], sent[SIGNATURE_HEADER])
    assert proven == account.address


def test_refusals_are_said_in_the_readers_language_and_the_cli_keeps_english(app):
    _, client = app
    client.cookies.set("lang", "es")
    token = csrf_of(client.get("/wallet/new").text)
    short = client.post("/wallet/create", data={"csrf": token, "passphrase": "short", "repeat": "short"})
    assert short.status_code == 400 and "elige una contraseña de al menos 10 caracteres" in short.text
    differ = client.post("/wallet/create", data={"csrf": token, "passphrase": "x" * 12, "repeat": "y" * 12})
    assert "las dos contraseñas no coinciden" in differ.text and "type the same one twice" not in differ.text
    error = WrongPassphrase(detail="refusal.wrong_passphrase")
    assert str(error) == "that passphrase does not open this wallet; try again"
    assert error.told("es") == "esa contraseña no abre esta cartera; inténtalo de nuevo"


def test_money_refusals_are_said_in_spanish_and_keep_their_english_wording():
    with pytest.raises(BadInput) as empty:
        add_statement(None, None, "0x" + "ab" * 32, "  ")  # refused before the core or keys are used
    assert str(empty.value) == "write a statement of 1 to 4,000 characters"
    assert empty.value.told("es") == "escribe una declaración de 1 a 4.000 caracteres"
    with pytest.raises(BadInput) as bad:
        withdraw(None, None, " 0x1234 ")
    assert str(bad.value) == "'0x1234' is not an address (0x + 40 hex)"
    assert bad.value.told("es") == "'0x1234' no es una dirección (0x + 40 hex)"
