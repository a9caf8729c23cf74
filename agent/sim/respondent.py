"""A simulated respondent that answers from a persona file, for `icp demo` and evaluations."""

from __future__ import annotations

import random
import re
from functools import cache
from pathlib import Path

from pydantic import BaseModel, Field

from agent.errors import InputError
from agent.lang.patterns import alternation
from agent.paths import load_yaml, resource
from agent.profile.models import SECTION_KEYS


@cache
def words() -> dict:
    """The simulator's own words (prompts/sim/respondent.yaml), loaded once."""
    return load_yaml(resource("prompts") / "sim" / "respondent.yaml")


class Fact(BaseModel):
    """One thing the respondent knows and says when asked.

    What it must never turn into, for the precision checks: `excluded` names segments or tools
    it says are never a fit, `negated` things it says they do not have or do, `retracted`
    values it corrects away as it speaks ("the Northeast, sorry, I mean the Mid-Atlantic"),
    `target` traits of the best customers that must never disqualify an account.
    """

    id: str
    say: str
    keys: list[str]
    quote: str | None = None
    volunteer_in: str | None = None
    excluded: list[str] = Field(default_factory=list)
    negated: list[str] = Field(default_factory=list)
    retracted: list[str] = Field(default_factory=list)
    target: list[str] = Field(default_factory=list)


class Topic(BaseModel):
    """What the respondent says about one section; `counter` is asked back the first time."""

    vague: str
    facts: list[Fact] = Field(default_factory=list)
    counter: str | None = None


class Persona(BaseModel):
    """A simulated respondent, as in `../shared/personas/README.md`."""

    id: str
    company: str
    product: str = ""
    respondent: str = "founder"
    opening: str
    unknown: str
    style: str | None = None  # terse, rambling, chat, bullets, story
    done: list[str] = Field(default_factory=list)  # its ways of saying a topic is used up
    asides: list[str] = Field(default_factory=list)  # remarks that answer nothing
    openers: list[str] = Field(default_factory=list)  # story openers and list headers
    topics: dict[str, Topic]

    def facts(self) -> list[tuple[str, Fact]]:
        """Every fact with its own section."""
        return [(key, fact) for key, topic in self.topics.items() for fact in topic.facts]


def most_per_answer(persona: Persona) -> int:
    """Most facts one follow-up draws out: one when terse, two, three with a rambler's tangent."""
    return {"terse": 1, "rambling": 3}.get(persona.style or "", 2)


def ceiling(persona: Persona, questions: int = 30) -> float:
    """Share of facts a perfect interviewer could draw out in `questions` questions.

    It asks the opener, the closing and every topic's first question (answered vaguely, with
    any volunteered facts), and spends each follow-up where it gets the most facts; nobody
    says "I don't know". Real runs stay below this; it shows what the budget allows at best.
    """
    per = most_per_answer(persona)
    facts = persona.facts()
    volunteered = sum(1 for _, fact in facts if fact.volunteer_in)
    gains: list[int] = []
    for topic in persona.topics.values():
        left = sum(1 for fact in topic.facts if not fact.volunteer_in)
        while left > 0:
            gains.append(min(per, left))
            left -= per
    follow_ups = max(0, questions - 2 - len(persona.topics))
    best = volunteered + sum(sorted(gains, reverse=True)[:follow_ups])
    return best / len(facts) if facts else 1.0


def oracle_said(
    persona: Persona, questions: int = 30, seed: int = 0, dont_know_rate: float = 0.08
) -> float:
    """Share of facts drawn out by an interviewer who knows where facts are left.

    It asks the opener, every topic's first question, then "what else?" wherever the most facts
    are left, and keeps one question for the closing. Unlike `ceiling`, it meets "I don't know"
    at the respondent's rate and a rambler's tangents as they fall, so it shows what is within
    reach against this respondent; its luck differs from a real run's, so it is no strict bound.
    """
    respondent = SimulatedRespondent(persona, seed=seed, dont_know_rate=dont_know_rate)
    respondent.answer("", "intro")
    for key in persona.topics:
        respondent.answer("", key)
    for _ in range(max(0, questions - 2 - len(persona.topics))):
        left = {
            key: sum(f.id not in respondent.told for f in topic.facts)
            for key, topic in persona.topics.items()
        }
        key = max(left, key=lambda k: left[k])
        if not left[key]:
            break
        respondent.answer("What else?", key)
    facts = persona.facts()
    return sum(f.id in respondent.told for _, f in facts) / len(facts) if facts else 1.0


def load_persona(path: str | Path) -> Persona:
    """Read a persona YAML file."""
    import yaml

    try:
        with open(path, encoding="utf-8") as fh:
            persona = Persona.model_validate(yaml.safe_load(fh))
    except OSError as exc:
        raise InputError(f"cannot read persona {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise InputError(f"{path} is not a valid persona file: {exc}") from None
    unknown = set(persona.topics) - set(SECTION_KEYS)
    if unknown:
        raise InputError(f"{path}: unknown topics {sorted(unknown)}")
    return persona


def _words(text: str) -> set[str]:
    stop = set(words()["stopwords"])
    return {w.rstrip("s") for w in re.findall(r"[a-z][a-z-]{3,}", text.lower())} - stop


def _typed(parts: list[str]) -> str:
    """Parts joined as typed: after a sentence a space, after a chat fragment with no full stop
    ("linkedin + word of mouth") a new line, never a run-on."""
    text = ""
    for part in (p.strip() for p in parts):
        if text and part:
            text += " " if text.endswith((".", "!", "?", '"', "'", ")", "”")) else "\n"
        text += part
    return text


class SimulatedRespondent:
    """Vague at first, then answers what is asked; volunteers, declines and rambles sometimes.

    Styles: `terse` answers in a sentence per fact with no filler, `rambling` adds filler and
    asides and sometimes drifts into another topic, `bullets` lists facts as "- " lines under a
    header, `story` opens with a story opener now and then; the default is plain (a chat
    persona writes its facts in lower case itself). A targeted question ("how big are they, in
    employees?") gets the facts that answer it; a broad one ("what else?") the next one or two.
    A persona's own remarks (`asides`, `openers`, `done`, a topic's `counter` question) come in
    too, and everything said that answers nothing is logged in `non_answers`.
    """

    def __init__(self, persona: Persona, seed: int = 0, dont_know_rate: float = 0.08):
        self.persona = persona
        self.rng = random.Random(f"{persona.id}:{seed}")
        self.dont_know_rate = dont_know_rate
        self.told: set[str] = set()
        self.asked: dict[str, int] = {}
        self.non_answers: list[str] = []  # everything said that answers nothing, as said
        self.done_at: dict[str, int] = {}  # topic -> the answer that said it is used up
        self.countered: dict[str, int] = {}  # topic -> the answer that asked back
        self.answers = 0

    def guess_topic(self, question: str, hint: str | None = None) -> str | None:
        """Which section the respondent thinks the question is about."""
        text = question.lower()
        scores = {
            key: sum(word in text for word in cues) for key, cues in words()["topic_words"].items()
        }
        best = max(scores, key=lambda k: (scores[k], k == hint))
        if scores[best] == 0:
            return hint if hint in SECTION_KEYS else None
        return best

    def answer(self, question: str, hint: str | None = None) -> str:
        """Answer one question as the persona would."""
        self.answers += 1
        lowered = question.lower()
        said = words()
        if hint == "intro" or said["intro"] in lowered:
            return self.persona.opening
        if hint in ("close", "closing") or said["closing"] in lowered:
            return self._nothing(said["closing_reply"])
        key = self.guess_topic(question, hint)
        if key is None or key not in self.persona.topics:
            return self._nothing(self.persona.unknown)
        topic = self.persona.topics[key]
        if topic.counter and key not in self.countered:
            self.countered[key] = self.answers
            return self._nothing(topic.counter)
        first = self.asked.get(key, 0) == 0
        self.asked[key] = self.asked.get(key, 0) + 1
        if first:
            return self._style([topic.vague, *(f.say for f in self._volunteered(key))])
        left = [f for f in topic.facts if f.id not in self.told]
        if not left:
            self.done_at.setdefault(key, self.answers)
            done = self.rng.choice(self.persona.done) if self.persona.done else said["done"]
            return self._nothing(done)
        if self.rng.random() < self.dont_know_rate:
            return self._nothing(self.persona.unknown)
        picked = self._pick(left, question)
        self.told.update(f.id for f in picked)
        parts = [f.say for f in picked]
        if self.persona.style == "rambling" and self.rng.random() < 0.3:
            parts += [f.say for f in self._tangent(key)]
        return self._style(parts)

    def _nothing(self, text: str) -> str:
        """Say something that answers nothing, and log it."""
        self.non_answers.append(text.strip())
        return text

    def _pick(self, facts: list[Fact], question: str) -> list[Fact]:
        """The facts that answer the question; the next one or two if it is broad."""
        asked = _words(question)
        scored = [(len(asked & _words(f.say)), i, f) for i, f in enumerate(facts)]
        matching = [f for n, _, f in sorted(scored, key=lambda t: (-t[0], t[1])) if n > 0]
        per = 1 if self.persona.style == "terse" else 2  # terse: "one fact at a time"
        broad = re.compile(rf"\b{alternation(words()['broad'])}\b", re.IGNORECASE)
        if matching and not broad.search(question):
            return matching[:per]
        return facts[:per]

    def _volunteered(self, key: str) -> list[Fact]:
        facts = [
            fact
            for _, fact in self.persona.facts()
            if fact.volunteer_in == key and fact.id not in self.told
        ]
        self.told.update(f.id for f in facts)
        return facts

    def _tangent(self, key: str) -> list[Fact]:
        """A rambler's aside: one untold fact from another topic."""
        others = [f for k, f in self.persona.facts() if k != key and f.id not in self.told]
        if not others:
            return []
        fact = self.rng.choice(others)
        self.told.add(fact.id)
        return [fact]

    def _style(self, parts: list[str]) -> str:
        persona, rng = self.persona, self.rng
        if persona.style == "bullets" and len(parts) > 1:
            header = rng.choice(persona.openers) if persona.openers else ""
            if header:
                self.non_answers.append(header)
            text = "\n".join([*([header] if header else []), *(f"- {p.strip()}" for p in parts)])
        else:
            text = _typed(parts)
        if persona.style == "story" and persona.openers and rng.random() < 0.4:
            opener = rng.choice(persona.openers)
            self.non_answers.append(opener)
            text = f"{opener} {text}"
        if persona.asides and persona.style != "rambling" and rng.random() < 0.25:
            aside = rng.choice(persona.asides)
            self.non_answers.append(aside)
            text = (
                f"{text} {aside}" if text.rstrip().endswith((".", "!", "?")) else f"{text}\n{aside}"
            )
        if persona.style == "rambling":
            filler = rng.choice(persona.openers or words()["filler"])
            aside = rng.choice(persona.asides or words()["asides"])
            self.non_answers += [filler.strip(), aside.strip()]
            return f"{filler.strip()} {text} {aside.strip()}"
        return text
