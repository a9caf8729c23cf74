"""Language packs: every word the offline engine reads and asks with, as data files.

A pack is a folder `prompts/lang/CODE/` holding one YAML file per part (`Pack`'s fields:
`guide.yaml`, `meaning.yaml`, `scoring.yaml`...). Each part is validated by its model here and
the pack is loaded once per process. A session stores the code of its
pack, so resume and re-extraction read it with the same words.
"""

from __future__ import annotations

from functools import cache

from pydantic import BaseModel, ValidationError

from agent.errors import InputError
from agent.lang.clauses import ClauseWords
from agent.lang.geography import Geography
from agent.lang.guide import Guide
from agent.lang.labels import Labels
from agent.lang.meaning import MeaningWords
from agent.lang.numbers import NumberWords
from agent.lang.quoteback import QuoteWords
from agent.lang.reading import ReadingWords
from agent.lang.review import ReviewWords
from agent.lang.scoring import ScoringWords
from agent.lang.summary import SummaryWords
from agent.lang.ui import UIWords
from agent.lang.vocabulary import Vocabulary
from agent.paths import load_yaml, resource

DEFAULT = "en"


class Pack(BaseModel):
    """One language: the interview guide and the word lists that read answers in it."""

    code: str
    guide: Guide  # the interview: questions, order, cues, hedges, declines
    reading: ReadingWords  # cutting answers into statements and reading them
    meaning: MeaningWords  # what a statement does: content, non-answer, asking back, polarity
    numbers: NumberWords  # numbers, units, ranges; in answers and in CRM cells
    quoteback: QuoteWords  # what a follow-up quotes back
    vocabulary: Vocabulary  # industries, regions, channels, triggers, roles, stopwords
    clauses: ClauseWords  # clauses, exclusion reasons and trigger timing, for scoring rules
    review: ReviewWords  # the quarterly review's questions
    labels: Labels  # what users see things called
    summary: SummaryWords  # committee roles, questions for thin sections, persona names
    ui: UIWords  # what the browser pages say
    scoring: ScoringWords  # CRM cells: cue words, negations, dates, synonyms
    geography: Geography  # place aliases and regions, for region rules


PARTS = tuple(name for name in Pack.model_fields if name != "code")


def available() -> list[str]:
    """The codes of the bundled packs."""
    root = resource("prompts") / "lang"
    return sorted(p.name for p in root.iterdir() if (p / "guide.yaml").is_file())


def load_pack(code: str = DEFAULT) -> Pack:
    """Load and validate a language pack; an unknown code or a bad file is one InputError."""
    return _load_pack(code)  # one object per code: readers cache their results per pack


@cache
def _load_pack(code: str) -> Pack:
    folder = resource("prompts") / "lang" / code
    if not code.isidentifier() or not folder.is_dir():
        raise InputError(f"no language pack {code!r}; available: {', '.join(available())}")
    data: dict[str, object] = {"code": code}
    for part in PARTS:
        path = folder / f"{part}.yaml"
        if not path.is_file():
            raise InputError(f"language pack {code!r} has no {part}.yaml")
        data[part] = load_yaml(path)
    try:
        return Pack.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise InputError(f"language pack {code!r}: {where}: {err['msg']}") from None


def load_guide(code: str = DEFAULT) -> Guide:
    """The interview guide of a pack."""
    return load_pack(code).guide
