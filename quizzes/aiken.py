"""Aiken import: plain Python, no database.

    What does the encoder of a Transformer produce?
    A. A representation of the input
    B) The output tokens
    ANSWER: A

The question text (one or more lines) comes first, then options `A.` or `A)` in order (the
space after the label is optional, as in Moodle: `A)Option`), then `ANSWER: <letter>`. Blank
lines between questions are optional. Every question is single choice with the named option
worth 100%.
"""

from __future__ import annotations

import re

from quizzes.content import SINGLE_CHOICE, ContentError, validate_content
from quizzes.parsing import ParsedQuestion, Problem, QuestionFileError

# Moodle's qformat_aiken makes the space after the label optional.
_OPTION = re.compile(r"^([A-Z])[.)]\s*(.*)$")
_ANSWER = re.compile(r"^ANSWER\s*:\s*(.*)$", re.IGNORECASE)


def parse_aiken(source: str) -> list[ParsedQuestion]:
    questions: list[ParsedQuestion] = []
    problems: list[Problem] = []
    text_lines: list[tuple[int, str]] = []  # (line number, text)
    options: list[tuple[str, str]] = []
    start = 0
    skipping = False  # after an error, skip to the next ANSWER line

    def reset() -> None:
        nonlocal text_lines, options, skipping
        text_lines, options, skipping = [], [], False

    for number, raw in enumerate(source.split("\n"), start=1):
        line = raw.strip()
        if not line:
            continue
        if answer := _ANSWER.match(line):
            if not skipping:
                parsed = _finish(start, number, text_lines, options, answer.group(1).strip())
                if isinstance(parsed, Problem):
                    problems.append(parsed)
                else:
                    questions.append(parsed)
            reset()
            continue
        if skipping:
            continue
        option = _OPTION.match(line)
        if option and text_lines:
            letter = option.group(1)
            expected = chr(ord("A") + len(options))
            if letter != expected:
                problems.append(
                    Problem(number, f"Option {letter} is out of order: expected {expected}.")
                )
                skipping = True
                continue
            options.append((letter, option.group(2).strip()))
            continue
        if options:
            problems.append(
                Problem(
                    number,
                    "Text after the options: end the question with 'ANSWER: <letter>' "
                    "before starting the next one.",
                )
            )
            skipping = True
            continue
        if not text_lines:
            start = number
        text_lines.append((number, line))
    if text_lines or options:
        problems.append(Problem(start, "The question has no 'ANSWER: <letter>' line."))
    if problems:
        raise QuestionFileError(problems)
    if not questions:
        raise QuestionFileError([Problem(1, "The file has no questions.")])
    return questions


def _finish(
    start: int,
    number: int,
    text_lines: list[tuple[int, str]],
    options: list[tuple[str, str]],
    letter: str,
) -> ParsedQuestion | Problem:
    if not text_lines:
        return Problem(number, "ANSWER without a question before it.")
    if len(options) < 2:
        if not options and len(text_lines) > 1:
            # Lines after the first one were meant as options but do not read as one: name the
            # first of them rather than saying the question has no options.
            line_number, line = text_lines[1]
            return Problem(
                line_number,
                f"'{line}' is not an option: write a capital letter, '.' or ')', then the "
                "option ('A. text' or 'A) text').",
            )
        return Problem(start, "The question needs at least two options, 'A. ...' and 'B. ...'.")
    letters = [opt[0] for opt in options]
    if letter.upper() not in letters:
        return Problem(
            number, f"ANSWER {letter or '(empty)'} is not one of the options {', '.join(letters)}."
        )
    content = {
        "type": SINGLE_CHOICE,
        "text": "\n".join(line for _, line in text_lines),
        "format": "plain",
        "answers": [
            {"text": text, "fraction": 1.0 if key == letter.upper() else 0.0, "feedback": ""}
            for key, text in options
        ],
    }
    try:
        return ParsedQuestion(content=validate_content(content), line=start)
    except ContentError as exc:
        return Problem(start, exc.message)
