"""Where candidates come from: the indexer's read model (any iterable of worker records also does)."""

from collections.abc import Mapping

from indexer.queries import ReadModel

from .model import JobNeed, Signals
from .pool import Pool


def pool_from_indexer(
    read_model: ReadModel, need: JobNeed, signals: Mapping[str, Signals] | None = None
) -> Pool:
    """The registered workers who speak the job's language, as the indexer last saw them.

    Unavailable and busy workers are kept: the pool's hard constraints drop them, and `why_nobody`
    needs them to say "every speaker is at capacity" rather than "nobody speaks it".
    """
    speakers = read_model.workers(language=need.language) if need.language < 64 else []
    return Pool(speakers, signals)
