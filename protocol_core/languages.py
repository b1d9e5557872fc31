"""The protocol's language table: ISO 639-1 code <-> bit index used on chain."""

from .errors import UnknownLanguage

# Append only: a code's position is its bit on chain, so reordering would change live profiles.
LANGUAGES: tuple[str, ...] = (
    "en", "es", "fr", "de", "pt", "it", "nl", "pl", "sv", "da", "no", "fi", "cs", "ro", "hu", "el",
    "tr", "ru", "uk", "ar", "he", "hi", "bn", "ur", "id", "ms", "th", "vi", "zh", "ja", "ko", "tl",
)  # fmt: skip

_INDEX = {code: i for i, code in enumerate(LANGUAGES)}


def language_index(code: str) -> int:
    """The on-chain index of an ISO 639-1 language code."""
    try:
        return _INDEX[code.lower()]
    except KeyError:
        known = ", ".join(LANGUAGES)
        raise UnknownLanguage(
            f"language {code!r} is not in the protocol table; use one of: {known}"
        ) from None


def language_mask(codes: list[str] | tuple[str, ...]) -> int:
    """The bit mask a worker registers for the languages it speaks."""
    mask = 0
    for code in codes:
        mask |= 1 << language_index(code)
    return mask


def language_codes(mask: int) -> list[str]:
    """The codes whose bits are set in `mask`."""
    return [code for i, code in enumerate(LANGUAGES) if mask >> i & 1]
