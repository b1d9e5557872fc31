"""Every user-facing word of the app in one catalogue per language (locale/<lang>.json), English and
Spanish complete; a missing key falls back to English, then to the key itself."""

import json
from functools import cache
from pathlib import Path
from typing import Any

LOCALES = Path(__file__).with_name("locale")
LANGUAGES = ("en", "es")
DEFAULT = "en"


@cache
def catalogue(lang: str) -> dict[str, str]:
    """The catalogue of `lang` (English for an unknown language)."""
    name = lang if lang in LANGUAGES else DEFAULT
    return dict(json.loads((LOCALES / f"{name}.json").read_text(encoding="utf-8")))


def translate(lang: str, key: str, **values: Any) -> str:
    """The text of `key` in `lang`, with `{name}` placeholders filled."""
    text = catalogue(lang).get(key) or catalogue(DEFAULT).get(key) or key
    return text.format(**values) if values else text


def pick(accept_language: str | None, cookie: str | None) -> str:
    """The worker's language: its choice (cookie), else the browser's first supported one."""
    if cookie in LANGUAGES:
        return str(cookie)
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return DEFAULT
