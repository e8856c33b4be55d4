"""GIFT import and export: plain Python, no database.

`parse_gift(source)` reads the grammar as Moodle's importer (qformat_gift) does: questions
are separated by blank lines; `//` lines are comments; `::title::`; a `[html|moodle|plain|
markdown]` format before the text; `$CATEGORY:` lines; escapes `\\: \\# \\= \\{ \\} \\~ \\\\ \\n`;
one `{...}` answer block, with text after it making a missing-word question (`_____`);
`####general feedback`, `#answer feedback` and `%n%` weights inside the block. The type follows
from the block exactly as in Moodle: `{}` essay, `{#...}` numerical, any `~` choice (single
when an answer starts with `=`, multiple otherwise), `=a -> b` matching, `T/TRUE/F/FALSE`
true/false, anything else short answer; no block at all is a description.

Where Moodle silently imports nonsense (an unclosed title, `%abc%` weights, `{` inside the
block, a second block) this parser reports the line instead, and it reports every problem in
the file at once (QuestionFileError).

Comment lines may carry `[id:...]` and `[tag:...]` (as Moodle reads them) and two Coursebench
extensions Moodle ignores as comments, `[mark:2]` and `[case-sensitive]`, so that
`export_gift` round-trips every field of the content schema except a description's general
feedback, which GIFT cannot express.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from itertools import pairwise
from typing import Any

from quizzes import qtypes
from quizzes.content import (
    DESCRIPTION,
    ESSAY,
    MATCHING,
    MULTIPLE_CHOICE,
    NUMERICAL,
    SHORT_ANSWER,
    SINGLE_CHOICE,
    TEXT_FORMATS,
    TRUE_FALSE,
    ContentError,
    default_name,
    validate_content,
)
from quizzes.parsing import ParsedQuestion, Problem, QuestionFileError
from quizzes.qtypes.base import gift_escape, gift_number

# Escaped characters become private-use placeholders while the block is taken apart, so an
# escaped `=` is never a separator; they are turned back into characters at the end.
_ESCAPES = {
    ":": "\ue03a",
    "#": "\ue023",
    "=": "\ue03d",
    "{": "\ue07b",
    "}": "\ue07d",
    "~": "\ue07e",
    "n": "\ue00a",
    "\\": "\ue05c",
}
_RESTORE = str.maketrans({ph: ("\n" if ch == "n" else ch) for ch, ph in _ESCAPES.items()})
_WEIGHT = re.compile(r"%\s*(-?(?:\d+(?:\.\d*)?|\.\d+))\s*%")
_BAD_WEIGHT = re.compile(r"%[^%\s]*%")
_FORMAT = re.compile(r"\[([a-z]+)\]")
_COMMENT_ID = re.compile(r"\[id:((?:\\]|[^\]])+?)\]")
_COMMENT_TAG = re.compile(r"\[tag:((?:\\]|[^\]])+?)\]")
_COMMENT_MARK = re.compile(r"\[mark:([^\]]*)\]")
_CATEGORY_PREFIX = re.compile(r"^\$[a-z0-9]+\$/")
_TRUE_FALSE = {"T": True, "TRUE": True, "F": False, "FALSE": False}
BLANK = "_____"


class _BlockError(Exception):
    def __init__(self, offset: int | None, message: str) -> None:
        super().__init__(message)
        self.offset = offset
        self.message = message


def _protect(text: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text) and text[i + 1] in _ESCAPES:
            out.append(_ESCAPES[text[i + 1]])
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _restore(text: str) -> str:
    return text.translate(_RESTORE)


def _strip_format(text: str) -> tuple[str | None, str]:
    """A leading `[format]` (a known one only, as in Moodle) and the rest of the text."""
    stripped = text.strip()
    match = _FORMAT.match(stripped)
    if match and match.group(1) in TEXT_FORMATS:
        return match.group(1), stripped[match.end() :]
    return None, stripped


def _clean(text: str) -> str:
    return _restore(_strip_format(text)[1]).strip()


def _blocks(lines: list[str]) -> Iterable[tuple[int, list[str]]]:
    """(first line number, lines) of each run of non-blank lines."""
    current: list[str] = []
    start = 0
    for number, line in enumerate(lines, start=1):
        if line.strip():
            if not current:
                start = number
            current.append(line)
        elif current:
            yield start, current
            current = []
    if current:
        yield start, current


def parse_gift(source: str) -> list[ParsedQuestion]:
    """Parse a whole GIFT file (newlines already normalised to \\n)."""
    questions: list[ParsedQuestion] = []
    problems: list[Problem] = []
    category: str | None = None
    for start, lines in _blocks(source.split("\n")):
        try:
            category, parsed = _parse_block(start, lines, category)
        except _BlockParseError as exc:
            problems.append(exc.problem)
            continue
        if parsed is not None:
            questions.append(parsed)
    if problems:
        raise QuestionFileError(problems)
    if not questions:
        raise QuestionFileError([Problem(1, "The file has no questions.")])
    return questions


class _BlockParseError(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def _parse_block(
    start: int, lines: list[str], category: str | None
) -> tuple[str | None, ParsedQuestion | None]:
    meta: dict[str, Any] = {"tags": []}
    body_lines = list(lines)
    for i, line in enumerate(lines):
        if line.strip().startswith("//"):
            _read_comment(line, meta, start + i)
            body_lines[i] = ""  # keeps line numbers
    first = next((i for i, line in enumerate(body_lines) if line.strip()), None)
    if first is None:
        return category, None
    if body_lines[first].strip().startswith("$CATEGORY:"):
        category = _category_path(body_lines[first].strip()[len("$CATEGORY:") :])
        body_lines[first] = ""
        if not any(line.strip() for line in body_lines):
            return category, None
    text = _protect("\n".join(body_lines))
    try:
        content = _parse_question(text)
    except _BlockError as exc:
        line = start + (text.count("\n", 0, exc.offset) if exc.offset is not None else first)
        raise _BlockParseError(Problem(line, exc.message)) from None
    content.update({k: v for k, v in meta.items() if v})
    question_line = start + next(i for i, line in enumerate(body_lines) if line.strip())
    try:
        content = validate_content(content)
    except ContentError as exc:
        raise _BlockParseError(Problem(question_line, exc.message)) from None
    return category, ParsedQuestion(content=content, line=question_line, category=category)


def _read_comment(line: str, meta: dict[str, Any], number: int) -> None:
    if match := _COMMENT_ID.search(line):
        meta["idnumber"] = match.group(1).replace("\\]", "]").strip()
    meta["tags"].extend(t.replace("\\]", "]").strip() for t in _COMMENT_TAG.findall(line))
    if match := _COMMENT_MARK.search(line):
        try:
            meta["default_mark"] = float(match.group(1))
        except ValueError:
            raise _BlockParseError(
                Problem(number, f"[mark:{match.group(1)}] is not a number, e.g. [mark:2].")
            ) from None
    if "[case-sensitive]" in line:
        meta["case_sensitive"] = True


def _category_path(raw: str) -> str | None:
    """`$course$/top/Session 12/Attention` -> `Session 12/Attention`. Category names here
    cannot contain '/', so Moodle's `//` (a slash inside a name) becomes a level too."""
    path = _CATEGORY_PREFIX.sub("", raw.strip())
    parts = [p.strip() for p in path.split("/") if p.strip()]
    if parts and parts[0] == "top":
        parts = parts[1:]
    return "/".join(parts) or None


def _parse_question(text: str) -> dict[str, Any]:
    """Parse one question's text (escapes already protected). Offsets in _BlockError are
    into `text`, so the caller can turn them into line numbers."""
    start = len(text) - len(text.lstrip())
    name = ""
    body_start = start
    if text.startswith("::", start):
        end = text.find("::", start + 2)
        if end < 0:
            raise _BlockError(start, "The title starts with '::' but has no closing '::'.")
        name = _restore(text[start + 2 : end]).strip()
        body_start = end + 2
    open_at = text.find("{", body_start)
    close_at = text.find("}", body_start)
    if open_at < 0 and close_at < 0:
        fmt, question_text = _strip_format(text[body_start:])
        return {
            "type": DESCRIPTION,
            "name": name,
            "text": _restore(question_text).strip(),
            "format": fmt or "moodle",
        }
    if open_at >= 0 and close_at < 0:
        raise _BlockError(
            open_at,
            "'{' is not closed by '}' before the next blank line (answers cannot contain "
            "blank lines; write \\{ for a literal brace).",
        )
    if open_at < 0 or close_at < open_at:
        raise _BlockError(close_at, "'}' without an opening '{' (write \\} for a literal brace).")
    nested = text.find("{", open_at + 1, close_at)
    if nested >= 0:
        raise _BlockError(nested, "'{' inside the answer block: write \\{ for a literal brace.")
    after = text[close_at + 1 :]
    extra = min((i for i in (after.find("{"), after.find("}")) if i >= 0), default=-1)
    if extra >= 0:
        raise _BlockError(
            close_at + 1 + extra,
            "A second answer block: a question has one {...}; write \\{ and \\} for literal "
            "braces.",
        )
    before = text[body_start:open_at]
    # Text after the block makes a missing-word question, as in Moodle.
    question_raw = before + BLANK + after if after.strip() else before
    answer = text[open_at + 1 : close_at]
    answer_at = open_at + 1
    general_feedback = ""
    split = answer.rfind("####")
    if split >= 0:
        general_feedback = _clean(answer[split + 4 :])
        answer = answer[:split]
    fmt, question_text = _strip_format(question_raw)
    content: dict[str, Any] = {
        "name": name,
        "text": _restore(question_text).strip(),
        "format": fmt or "moodle",
        "general_feedback": general_feedback,
    }
    if not name:
        content["name"] = default_name(content["text"])
    content.update(_parse_answers(answer, answer_at))
    return content


def _parse_answers(answer: str, at: int) -> dict[str, Any]:
    stripped = answer.strip()
    lead = at + len(answer) - len(answer.lstrip())
    if not stripped:
        return {"type": ESSAY}
    if stripped[0] == "#":
        return _numerical(stripped[1:], lead + 1)
    if "~" in stripped:
        return _choice(answer, at)
    if "=" in stripped and "->" in stripped:
        return _matching(answer, at)
    value = stripped.split("#", 1)[0].strip() if stripped.find("#") > 0 else stripped
    if value in _TRUE_FALSE:
        return _true_false(stripped)
    return _short_answer(answer, at)


def _pieces(text: str, at: int, separators: str) -> list[tuple[str, int]]:
    """Split before each separator character, keeping it; a leading piece is kept when it
    is not blank (Moodle reads it as an answer too). Returns (piece, offset) pairs."""
    cuts = [i for i, ch in enumerate(text) if ch in separators]
    bounds = [0, *cuts, len(text)]
    pieces = []
    for left, right in pairwise(bounds):
        piece = text[left:right]
        if right > left and (left in cuts or piece.strip()):
            pieces.append((piece, at + left))
    return pieces


def _weight(piece: str, offset: int, default: float) -> tuple[float, str]:
    """Read a leading `%n%` weight; returns (fraction, rest of the piece)."""
    body = piece.lstrip()
    match = _WEIGHT.match(body)
    if match:
        value = float(match.group(1))
        if not -100 <= value <= 100:
            raise _BlockError(offset, f"Weight %{match.group(1)}% is outside -100..100.")
        return round(value / 100, 7), body[match.end() :]
    bad = _BAD_WEIGHT.match(body)
    if bad:
        raise _BlockError(
            offset, f"{bad.group(0)} is not a weight: write a percentage like %50% or %-25%."
        )
    return default, body


def _with_feedback(piece: str) -> tuple[str, str]:
    text, _, feedback = piece.partition("#")
    return _clean(text), _clean(feedback)


def _choice(answer: str, at: int) -> dict[str, Any]:
    answers = []
    single = False
    for piece, offset in _pieces(answer, at, "~="):
        body = piece[1:] if piece.startswith("~") else piece
        right = body.startswith("=")
        if right:
            single = True
            body = body[1:]
        fraction, body = _weight(body, offset, 1.0 if right else 0.0)
        text, feedback = _with_feedback(body)
        if not text:
            raise _BlockError(offset, "An answer is empty: write text after '=' or '~'.")
        answers.append({"text": text, "fraction": fraction, "feedback": feedback})
    if len(answers) < 2:
        raise _BlockError(at, "A choice question needs at least two answers.")
    return {"type": SINGLE_CHOICE if single else MULTIPLE_CHOICE, "answers": answers}


def _short_answer(answer: str, at: int) -> dict[str, Any]:
    answers = []
    for piece, offset in _pieces(answer, at, "="):
        body = piece[1:] if piece.startswith("=") else piece
        fraction, body = _weight(body, offset, 1.0)
        text, feedback = _with_feedback(body)
        if not text:
            raise _BlockError(offset, "An answer is empty: write the accepted text after '='.")
        answers.append({"text": text, "fraction": fraction, "feedback": feedback})
    return {"type": SHORT_ANSWER, "answers": answers}


def _matching(answer: str, at: int) -> dict[str, Any]:
    pairs = []
    for piece, offset in _pieces(answer, at, "="):
        body = piece[1:] if piece.startswith("=") else piece
        if "->" not in body:
            raise _BlockError(
                offset, "A matching pair must be '=item -> match' (or '= -> distractor')."
            )
        left, right = body.split("->", 1)
        pairs.append({"question": _clean(left), "answer": _clean(right)})
    if len(pairs) < 2:
        raise _BlockError(at, "A matching question needs at least two pairs.")
    return {"type": MATCHING, "pairs": pairs}


def _true_false(answer: str) -> dict[str, Any]:
    bits = answer.split("#", 2)
    correct = _TRUE_FALSE[bits[0].strip()]
    wrong = _clean(bits[1]) if len(bits) > 1 else ""
    right = _clean(bits[2]) if len(bits) > 2 else ""
    # Moodle's {T#wrong#right}: the first feedback is for the wrong response.
    return {
        "type": TRUE_FALSE,
        "correct": correct,
        "feedback_true": right if correct else wrong,
        "feedback_false": wrong if correct else right,
    }


def _number(text: str, offset: int) -> float:
    try:
        value = float(_restore(text).strip())
    except ValueError:
        raise _BlockError(
            offset, f"'{_restore(text).strip()}' is not a number (write e.g. 3.14)."
        ) from None
    if value != value or value in (float("inf"), float("-inf")):
        raise _BlockError(offset, "A numerical answer must be a finite number.")
    return value


def _numerical(answer: str, at: int) -> dict[str, Any]:
    other = None
    cut = answer.find("~")
    if cut >= 0:
        # Moodle: everything from '~' is the feedback for any other answer.
        other = {"value": None, "tolerance": 0.0, "fraction": 0.0}
        other["feedback"] = _clean(answer[cut:].partition("#")[2])
        answer = answer[:cut]
    answers = []
    for piece, offset in _pieces(answer, at, "="):
        body = piece[1:] if piece.startswith("=") else piece
        fraction, body = _weight(body, offset, 1.0)
        value_text, _, feedback = body.partition("#")
        value_text = value_text.strip()
        if not value_text:
            raise _BlockError(offset, "A numerical answer is empty: write e.g. =3.14:0.01.")
        if value_text.find("..") > 0:
            low_text, high_text = value_text.split("..", 1)
            low, high = _number(low_text, offset), _number(high_text, offset)
            if low > high:
                raise _BlockError(offset, f"The range {value_text} runs backwards.")
            value = (low + high) / 2
            tolerance = high - value
        elif value_text.find(":") > 0:
            value_part, tolerance_part = value_text.split(":", 1)
            value, tolerance = _number(value_part, offset), _number(tolerance_part, offset)
            if tolerance < 0:
                raise _BlockError(offset, "A tolerance cannot be negative.")
        else:
            value, tolerance = _number(value_text, offset), 0.0
        answers.append(
            {
                "value": value,
                "tolerance": tolerance,
                "fraction": fraction,
                "feedback": _clean(feedback),
            }
        )
    if not answers:
        raise _BlockError(at, "A numerical question has no answer: write e.g. {#3.14:0.01}.")
    if other is not None:
        answers.append(other)
    return {"type": NUMERICAL, "answers": answers}


# --- Export: each type writes its own answer block (its plug-in's `gift_block`) ---------------


def export_question(content: dict[str, Any]) -> str:
    """One question as GIFT (no trailing blank line)."""
    meta = []
    if content.get("idnumber"):
        meta.append(f"[id:{content['idnumber'].replace(']', chr(92) + ']')}]")
    # `]` inside [id:…] and [tag:…] is written `\]`, as Moodle's importer reads it.
    meta.extend(f"[tag:{tag.replace(']', chr(92) + ']')}]" for tag in content.get("tags", []))
    if qtypes.get(content["type"]).answerable and content.get("default_mark", 1.0) != 1.0:
        meta.append(f"[mark:{gift_number(float(content['default_mark']))}]")
    if content.get("case_sensitive"):
        meta.append("[case-sensitive]")
    out = [f"// {' '.join(meta)}"] if meta else []
    fmt = "" if content["format"] == "moodle" else f"[{content['format']}]"
    head = f"::{gift_escape(content['name'])}::{fmt}"
    block = qtypes.get(content["type"]).gift_block(content)
    text = content["text"]
    if block is None:
        out.append(head + gift_escape(text))
    elif BLANK in text and text.split(BLANK, 1)[1]:
        before, after = text.split(BLANK, 1)
        out.append(f"{head}{gift_escape(before)}{block}{gift_escape(after)}")
    else:
        out.append(f"{head}{gift_escape(text)}{block}")
    return "\n".join(out)


def export_gift(questions: Iterable[tuple[dict[str, Any], str | None]]) -> str:
    """GIFT for (content, category path) pairs, with a $CATEGORY line at each change."""
    chunks = []
    current: str | None = None
    for content, category in questions:
        if category and category != current:
            chunks.append(f"$CATEGORY: $course$/top/{category}")
            current = category
        chunks.append(export_question(content))
    return "\n\n".join(chunks) + "\n"
