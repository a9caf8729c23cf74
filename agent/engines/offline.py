"""The built-in engine: rule-based wording and extraction, no model and no network."""

from __future__ import annotations

import re
from collections.abc import Iterator

from agent.interview.contract import CORRECTION, FOLLOW_UP, Context, Engine, Wording
from agent.interview.planner import Action
from agent.interview.recap import closing_summary, short
from agent.lang import Pack, load_pack
from agent.profile.models import UNSORTED, Evidence, Item, Profile, new_item_id
from agent.prompts import render
from agent.reading.meaning import our_words
from agent.reading.sections import classify
from agent.reading.statements import Span, find_entities, find_quotes, read_statement
from agent.reading.terms import content_words, markets
from agent.reading.thoughts import Thought, item_from, said_by, thoughts


class OfflineEngine(Engine):
    """Words questions from the guide and extracts items with the offline rules."""

    name = "offline"
    cpu_bound = True

    def __init__(self, pack: Pack | None = None):
        self.pack = pack or load_pack()
        self.guide = self.pack.guide

    def word(self, action: Action, profile: Profile, context: Context | None = None) -> Wording:
        """Word a planned question from the guide's templates."""
        guide = self.guide
        if action.kind == "intro":
            return Wording(render(guide.intro["question"]))
        if action.kind == "close":
            if action.probe == CORRECTION:
                return Wording(render(guide.closing["follow_up"]))
            summary = closing_summary(profile)
            preface = render(guide.closing["preface"], **summary) if any(summary.values()) else ""
            return Wording(render(guide.closing["question"]), preface)
        spec = guide.sections[action.section or ""]
        if action.kind == "open":
            return Wording(render(spec.opening))
        probe = action.probe
        if probe == "clarify":
            template = guide.clarify["either" if action.hedge == "either" else "meaning"]
            return Wording(render(template, question=action.phrase, noun=spec.noun))
        if probe == FOLLOW_UP:  # an engine's follow-up on the respondent's own words
            template = guide.probes["generic"]
            return Wording(render(template, phrase=short(action.phrase), noun=spec.noun))
        if probe == "hedge":
            general = guide.probes.get(action.hedge, guide.probes["generic"])
            template = spec.hedge if spec.hedge and action.hedge != "depends" else general
            return Wording(render(template, phrase=short(action.phrase), noun=spec.noun))
        if probe.startswith("facet:"):
            facet = next(f for f in spec.facets if f.id == probe.removeprefix("facet:"))
            return Wording(render(facet.probe))
        template = {"words": spec.words, "example": spec.example, "more": spec.more}[probe]
        return Wording(render(template or spec.more))

    def extract(
        self, answer: str, turn: int, topic: str | None, context: Context | None = None
    ) -> list[tuple[str, Item]]:
        """File each statement of the answer into its section."""
        return list(file_answer(answer, turn, topic, self.pack))


def file_answer(
    answer: str, turn: int, topic: str | None, pack: Pack
) -> Iterator[tuple[str, Item]]:
    """Yield (section, item) for every thought in an answer that says something.

    Statements that answer nothing are left out. A thought that says who is not a fit goes to
    the exclusions whatever other cues it has; one about the best customers never does. A
    thought no section takes goes to Unsorted, for the joint review to file. A correction of
    the thought before it ("Sorry, I mean...") retracts that one.
    """
    previous: Item | None = None
    for thought in thoughts(answer, pack, topic):
        # A remark about the speaker's own company after a fact ("We're 9 people.") is no
        # finding about the customers: the joint review files it, or drops it.
        aside = previous is not None and thought.aside and not _goes_on(thought, previous)
        section = None if aside else place(thought, topic, pack)
        said = thought.span.text
        reading = read_statement(Span(0, len(thought.text), thought.text), pack, section)
        # Quoted words of the customers, with who said them; "My team calls our CRM 'the
        # swamp'" quotes our own.
        quotes = [(q, said_by(said, q.start, pack)) for q in find_quotes(said)]
        quotes = [(q, who) for q, who in quotes if who or not our_words(said, q.start, pack)]
        if not (quotes and section == "customer_language"):
            item = item_from(thought.text, turn, reading, quote=said)
            item.negations = [n for n in thought.negations if n]
            item.certain = thought.certain
            home = section or UNSORTED
            item.id = new_item_id(home, item)
            if thought.corrects_previous and previous is not None:
                previous.retracted, previous.corrected_by = True, item.id
                item.negations += _taken_back(thought.meanings[0].text, previous.text, pack)
            elif previous is not None:  # "... and Austria also. Sorry, not Austria, ..."
                denied = " ".join(item.negations)
                previous.negations += _taken_back(denied, previous.text, pack)
            previous = item
            yield home, item
        for quote, who in quotes:
            yield (
                "customer_language",
                Item(
                    text=quote.text,
                    evidence=[Evidence(turn=turn, quote=quote.text)],
                    concrete=True,
                    said_by=who,
                ),
            )


def _taken_back(correction: str, retracted: str, pack: Pack) -> list[str]:
    """The names a correction repeats from the statement it takes back: "Arkansas and Texas.
    No, I got that wrong, Arkansas is just one big customer." claims no Arkansas."""
    if not correction.strip():
        return []
    said = {*find_entities(correction, pack), *markets(correction, pack.vocabulary)}
    before = retracted.casefold()
    return sorted(n for n in said if re.search(rf"(?<!\w){re.escape(n.casefold())}(?!\w)", before))


def _goes_on(thought: Thought, previous: Item) -> bool:
    """True when a remark about the speaker's company goes on with the fact before it: it
    shares a word with it ("Uptime is the first question. We guarantee 97 percent uptime.")."""
    return bool(content_words(thought.text) & content_words(previous.text))


def place(thought: Thought, topic: str | None, pack: Pack) -> str | None:
    """The section a thought belongs to: the exclusions for one that excludes, never for one
    about the best customers, else by its cues and the topic under discussion."""
    if thought.excludes and not thought.targets:
        return "exclusions"
    ignore = {"exclusions"} if thought.targets else set()
    return classify(thought.text, topic, pack.guide, ignore)
