"""What a pack's statements do beyond their words (`meaning.yaml`)."""

from __future__ import annotations

import re
from functools import cached_property

from pydantic import BaseModel, field_validator

from agent.lang.literals import Prefiltered
from agent.lang.patterns import alternation, alternatives, lowered


def _phrases(entries: list[str], *, escape: bool = True) -> Prefiltered:
    return Prefiltered(alternatives(entries, escape=escape), r"(?<![\w'’]){}(?![\w'’])")


class MeaningWords(BaseModel):
    """Discourse words, markers of non-answers, asking back, polarity, corrections, guesses."""

    discourse: frozenset[str]
    spellings: dict[str, str]
    speaker: frozenset[str]
    us: frozenset[str]
    numbered: list[str]
    customers: frozenset[str]
    dealing: frozenset[str]
    handing: frozenset[str]
    connecting: frozenset[str]
    about_question: list[str]
    elsewhere: list[str]
    later: frozenset[str]
    inflections: list[str]
    interjections: list[str]
    done: frozenset[str]
    done_phrases: list[str]
    dont_know: frozenset[str]
    decline: frozenset[str]
    opener: frozenset[str]
    header_end: str
    asking_back: list[str]
    alternatives: list[str]
    excluding: list[str]
    targeting: list[str]
    negators: list[str]
    negative_suffix: str
    negative_words: frozenset[str]
    undoing: list[str]
    scope_ends: frozenset[str]
    not_negating: list[str]
    replacing: list[str]
    replacing_bare: list[str]
    tag_questions: list[str]
    correcting: list[str]
    retracting: list[str]
    guessing: list[str]
    contrast: list[str]

    @field_validator(
        "discourse",
        "done",
        "dont_know",
        "decline",
        "opener",
        "scope_ends",
        "speaker",
        "us",
        "customers",
        "dealing",
        "negative_words",
        "handing",
        "connecting",
        "later",
        mode="before",
    )
    @classmethod
    def _lowered(cls, words: list) -> frozenset[str]:
        return lowered(words)

    @cached_property
    def ours(self) -> frozenset[str]:
        """The speaker's words and their company's: "I", "my", "we", "our"."""
        return self.speaker | self.us

    def talk(self, word: str) -> bool:
        """Whether a word is one of the discourse words, an inflection of one ("coming"), or an
        interjection however it is drawn out ("ooh", "mmm", "hmmm")."""
        if word in self.discourse or self.interjection_re.fullmatch(word):
            return True
        for ending in self.inflections:
            stem = word.removesuffix(ending)
            if stem != word and (stem in self.discourse or stem + "e" in self.discourse):
                return True
        return False

    @cached_property
    def interjection_re(self) -> re.Pattern[str]:
        """Compiled forms of drawn-out interjections."""
        return re.compile(alternation(self.interjections, escape=False))

    @cached_property
    def negator_words(self) -> frozenset[str]:
        """The negators that are one word ("no", "never")."""
        return frozenset(n.lower() for n in self.negators if re.fullmatch(r"[\w']+", n))

    def negative(self, word: str) -> bool:
        """Whether a word negates: a one-word negator or a negative form ("can't", "wouldn't")."""
        return (
            word in self.negator_words
            or word in self.negative_words
            or word.endswith(self.negative_suffix)
        )

    @cached_property
    def elsewhere_re(self) -> Prefiltered:
        """Compiled markers of an answer that is somewhere else ("I'd have to pull that")."""
        return _phrases(self.elsewhere, escape=False)

    @cached_property
    def done_re(self) -> re.Pattern[str]:
        """Whole phrases that say a topic is used up."""
        return re.compile(alternation(self.done_phrases, escape=False), re.IGNORECASE)

    @cached_property
    def asking_back_re(self) -> Prefiltered:
        """Words that ask what a question means."""
        return _phrases(self.asking_back)

    @cached_property
    def alternatives_re(self) -> Prefiltered:
        """Readings offered to choose from."""
        return _phrases(self.alternatives)

    @cached_property
    def excluding_re(self) -> Prefiltered:
        """Words that say who is not a fit."""
        return Prefiltered(alternatives(self.excluding, escape=False))

    @cached_property
    def targeting_re(self) -> Prefiltered:
        """Words that say the statement is about the best customers."""
        return Prefiltered(alternatives(self.targeting, escape=False))

    @cached_property
    def negator_re(self) -> Prefiltered:
        """A word that denies what follows it."""
        return _phrases(self.negators)

    @cached_property
    def numbered_re(self) -> re.Pattern[str]:
        """A word that takes a number and the Roman numeral after it ("Class I")."""
        return re.compile(rf"\b({alternation(self.numbered)})\s+(?-i:[IVX]+)\b(?!')", re.IGNORECASE)

    @cached_property
    def undoing_re(self) -> Prefiltered:
        """Words that take back the clause before them."""
        return Prefiltered(alternatives(self.undoing, escape=False), r"\b{}")

    @cached_property
    def not_negating_re(self) -> Prefiltered:
        """A negator that denies nothing ("not only", "no problem")."""
        return _phrases(self.not_negating)

    @cached_property
    def replacing_re(self) -> re.Pattern[str]:
        """A correction inside a statement, after a comma or a dash; markers may follow one
        another."""
        marker = alternation([*self.replacing, *self.replacing_bare], escape=False)
        return re.compile(rf"\s*(?:[,;–—-]|\.\.\.|…)\s*(?:{marker}\s+)+", re.IGNORECASE)

    @cached_property
    def replacing_strong_re(self) -> re.Pattern[str]:
        """A marker that corrects whatever follows it (not only a bare "sorry,")."""
        return re.compile(rf"\b{alternation(self.replacing, escape=False)}", re.IGNORECASE)

    @cached_property
    def tag_question_re(self) -> re.Pattern[str]:
        """A tag at the end of an assertion ("..., right?")."""
        tags = alternation(self.tag_questions)
        return re.compile(rf"[,;–—-]\s*{tags}\s*\?+\s*$", re.IGNORECASE)

    @cached_property
    def correcting_re(self) -> re.Pattern[str]:
        """A statement opening as a correction of the one before it."""
        marker = alternation(self.correcting, escape=False)
        return re.compile(rf"^{marker}\b[\s,:.-]*", re.IGNORECASE)

    @cached_property
    def retracting_re(self) -> Prefiltered:
        """A clause that takes back what came before it."""
        return Prefiltered(alternatives(self.retracting, escape=False))

    @cached_property
    def guessing_re(self) -> Prefiltered:
        """Words that make content a guess."""
        return _phrases(self.guessing)

    @cached_property
    def contrast_re(self) -> re.Pattern[str]:
        """Where "<a remark>, but <content>" turns to the content."""
        return re.compile(rf"\s*,?\s+{alternation(self.contrast)}\s+", re.IGNORECASE)
