"""The worker's profile in plain words (languages, expertise, certifications, capacity, availability),
read from the registry and changed by a relayed signature: the worker's wallet may be empty."""

from dataclasses import dataclass

from protocol_core.languages import LANGUAGES, language_codes, language_mask
from protocol_core.relayed import sign_availability, sign_registration

from .core import Core
from .errors import BadInput
from .wallet import Keys


@dataclass(frozen=True)
class Profile:
    """What the registry says of a worker, as words."""

    address: str
    registered: bool
    languages: tuple[str, ...]
    expertise: tuple[str, ...]
    certifications: tuple[str, ...]  # granted by a certifier; the worker cannot set them
    max_concurrent: int
    active_jobs: int
    available: bool
    completed: int
    missed_deadlines: int
    disputes_lost: int
    key_matches: bool  # the registered X25519 key is this wallet's (context can be opened)
    expertise_bits: int
    certification_bits: int


def names(mask: int, table: dict[str, int]) -> tuple[str, ...]:
    """The names of the bits set in `mask`; an unnamed bit shows as its number."""
    known = {bit: name for name, bit in table.items()}
    return tuple(known.get(bit, f"#{bit}") for bit in range(64) if mask >> bit & 1)


def read_profile(core: Core, address: str, x25519: bytes | None = None) -> Profile:
    """The registry's profile of `address` in words."""
    chain = core.chain
    p = chain.read(chain.registry.profile, address)
    key = chain.read(chain.registry.encryption_key, address) if x25519 is not None else b""
    return Profile(
        address=address, registered=p.max_concurrent > 0, languages=tuple(language_codes(p.languages)),
        expertise=names(p.expertise, core.settings.expertise),
        certifications=names(p.certifications, core.settings.certifications),
        max_concurrent=p.max_concurrent, active_jobs=p.active_jobs, available=p.available,
        completed=p.completed, missed_deadlines=p.missed_deadlines, disputes_lost=p.disputes_lost,
        key_matches=x25519 is not None and key == x25519, expertise_bits=p.expertise,
        certification_bits=p.certifications,
    )  # fmt: skip


def save_profile(
    core: Core, keys: Keys, languages: list[str], expertise: list[str], max_concurrent: int
) -> dict[str, str]:
    """Signs the profile (with this wallet's X25519 key) and has the desk relay `registerFor`."""
    unknown = [code for code in languages if code not in LANGUAGES]
    if not languages or unknown:
        if not languages:
            raise BadInput(detail="refusal.pick_language")
        raise BadInput(detail="refusal.unknown_language", code=unknown[0])
    missing = [name for name in expertise if name not in core.settings.expertise]
    if missing:
        raise BadInput(
            detail="refusal.unknown_expertise", name=missing[0], known=", ".join(core.settings.expertise)
        )
    if not 1 <= max_concurrent <= 20:
        raise BadInput(detail="refusal.jobs_at_once")
    chain = core.chain
    signed = sign_registration(
        bytes(keys.account.key),
        chain_id=chain.chain_id,
        registry=chain.registry.address,
        worker=keys.address,
        languages=language_mask(languages),
        expertise=sum(1 << core.settings.expertise[n] for n in expertise),
        max_concurrent=max_concurrent,
        encryption_key=keys.public_x25519,
        profile_uri="",
        nonce=chain.read(chain.registry.nonce, keys.address),
        deadline=core.deadline(),
    )
    return core.desk.register(signed)


def set_available(core: Core, keys: Keys, available: bool) -> dict[str, str]:
    """Signs the availability switch and has the desk relay `setAvailabilityFor`."""
    chain, deadline = core.chain, core.deadline()
    signature = sign_availability(
        bytes(keys.account.key),
        chain_id=chain.chain_id,
        registry=chain.registry.address,
        worker=keys.address,
        available=available,
        nonce=chain.read(chain.registry.nonce, keys.address),
        deadline=deadline,
    )
    return core.desk.availability(keys.address, available, deadline, signature)
