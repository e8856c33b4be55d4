"""What the question-file parsers share: the parsed question, the error, the dispatcher.
Plain Python, no database."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.exceptions import ApplicationError

FORMATS = ("gift", "aiken")
# Enough to fix a file in one go without flooding the page.
MAX_REPORTED_ERRORS = 20


@dataclass(frozen=True)
class ParsedQuestion:
    content: dict[str, Any]  # validated, see quizzes.content
    line: int  # 1-based line where the question starts
    category: str | None = None  # from a preceding $CATEGORY: line, Moodle prefixes removed


@dataclass(frozen=True)
class Problem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"Line {self.line}: {self.message}"


class QuestionFileError(ApplicationError):
    """Every problem found in a question file. The whole file is parsed before anything is
    imported, so a file with any problem imports nothing."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: p.line)
        shown = self.problems[:MAX_REPORTED_ERRORS]
        more = len(self.problems) - len(shown)
        message = "; ".join(str(p) for p in shown) + (f"; and {more} more" if more else "")
        super().__init__(
            "invalid_question_file",
            message,
            extra={"errors": [{"line": p.line, "message": p.message} for p in shown]},
        )


def parse_questions(source: str, format: str) -> list[ParsedQuestion]:
    """Parse a GIFT or Aiken file; raises QuestionFileError listing every problem."""
    from quizzes import aiken, gift

    if format not in FORMATS:
        raise ApplicationError(
            "invalid_format", f"Unknown question format {format!r}: use gift or aiken."
        )
    if not isinstance(source, str):
        raise QuestionFileError([Problem(1, "The file is not text.")])
    source = source.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    return gift.parse_gift(source) if format == "gift" else aiken.parse_aiken(source)
