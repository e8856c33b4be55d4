"""Marp deck parser: plain Python, no database.

`parse_deck(source)` turns a Marp markdown deck into a `ParsedDeck` or raises `DeckError`
(an ApplicationError with code "invalid_deck", a message naming what is missing or wrong and
how to fix it, and the 1-based line number where it applies).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from core.exceptions import ApplicationError


class DeckError(ApplicationError):
    def __init__(self, message: str, *, line: int | None = None) -> None:
        where = f"Line {line}: " if line else ""
        super().__init__("invalid_deck", where + message, extra={"line": line} if line else None)
        self.line = line


@dataclass(frozen=True)
class Slide:
    index: int  # 1-based position in the deck
    markdown: str  # the slide's markdown, directives and notes comments removed
    html: str  # sanitised HTML of this slide
    css_class: str = ""  # from a `class`/`_class` directive, sanitised to [a-z0-9 _-]
    notes: list[str] = field(default_factory=list)  # speaker notes (instructors only)
    directives: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ParsedDeck:
    number: int
    title: str
    lecturer: str
    objectives: list[str]
    homework: list[str]
    slides: list[Slide]
    front_matter: dict = field(default_factory=dict)
    homework_intro: str = ""
    date: date | None = None
    course_code: str | None = None
    course_title: str | None = None

    @property
    def slides_html(self) -> str:
        """Every slide as `<section class="slide ..." id="slide-N">…</section>`, no notes."""
        raise NotImplementedError

    @property
    def speaker_notes(self) -> list[dict]:
        return [{"slide": s.index, "text": n} for s in self.slides for n in s.notes]


def parse_deck(source: str) -> ParsedDeck:
    raise NotImplementedError
