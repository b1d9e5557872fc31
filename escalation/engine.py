"""The decision engine: a pure call from a ticket to a decision with reasons (the desk's doors wrap it)."""

from collections.abc import Iterable
from pathlib import Path

from .config import EngineConfig, load_config
from .detectors.compliance import ComplianceDetector
from .detectors.confidence import detect_low_confidence
from .detectors.frustration import FrustrationDetector
from .detectors.novelty import detect_novelty
from .known_issues import KnownIssueIndex, read_known_issues
from .learning import LearningLoop, Resolution
from .models import Decision, Ticket
from .policy import decide
from .text import ConceptLexicon, fold, shipped_lexicon


class EscalationEngine:
    """Holds the detectors and the known issues; `decide` does no I/O."""

    def __init__(
        self,
        config: EngineConfig,
        known_issues: Iterable[tuple[str, str]] = (),
        lexicon: ConceptLexicon | None = None,
    ) -> None:
        self.config = config
        self._lexicon = lexicon or shipped_lexicon()
        self._compliance = ComplianceDetector(config.compliance)
        self._frustration = FrustrationDetector(config.frustration, self._lexicon.stopwords)
        self.known_issues = KnownIssueIndex(
            self._lexicon, config.novelty.unknown_weight, config.novelty.anomaly_factor
        )
        self.known_issues.add(known_issues)
        self.learning = LearningLoop(self.known_issues, self._lexicon, config.novelty)

    @classmethod
    def from_files(cls, known_issues: Path | None = None, config: Path | None = None) -> "EscalationEngine":
        """An engine from a config file (or the defaults) and a known-issues JSONL file (or none)."""
        items = read_known_issues(known_issues) if known_issues else []
        return cls(load_config(config), items)

    def decide(self, ticket: Ticket) -> Decision:
        """Escalate, offer a human or continue, with the reasons and the job it would post."""
        results = [
            detect_low_confidence(ticket, self.config.confidence),
            self._frustration.detect(ticket),
            self._compliance.detect(ticket),
            detect_novelty(ticket, self.known_issues, self.config.novelty),
        ]
        return decide(ticket, results, self.config)

    def forget_messages(self) -> None:
        """Clears every per-message cache (folded text, tokens, frustration signals), as for a cold start."""
        fold.cache_clear()
        self._lexicon.tokens.cache_clear()
        self._frustration.forget()

    def learn(self, resolution: Resolution) -> bool:
        """Feeds a verified resolution back; True when a new problem just became a known issue."""
        return self.learning.learn(resolution)
