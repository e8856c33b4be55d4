"""Template helpers for the quiz pages: question text by its format, labels, durations and
the quizzes box on a session page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import template
from django.utils.html import escape, linebreaks
from django.utils.safestring import SafeString, mark_safe

from core.sanitize import INLINE, QUESTION, markdown_parser
from courseware.permissions import is_instructor, is_staff_role
from quizzes import grading, qtypes, selectors
from quizzes.content import QUESTION_TYPE_LABELS
from quizzes.models import AttemptQuestion

register = template.Library()

STATE_LABELS = dict(AttemptQuestion.State.choices)


@register.filter
def qtext(text: str | None, text_format: str = "moodle") -> SafeString:
    """Question (or feedback) text as sanitised HTML, read as its format says: markdown,
    HTML (Moodle's own format allows HTML too) or plain text."""
    if not text:
        return mark_safe("")
    if text_format == "markdown":
        return QUESTION.safe(markdown_parser("table").render(str(text)))
    if text_format == "plain":
        return mark_safe(linebreaks(escape(text)))  # noqa: S308 - escaped first
    text = str(text)
    return QUESTION.safe(text if "<" in text else linebreaks(text, autoescape=True))


@register.filter
def qinline(text: str | None, text_format: str = "moodle") -> SafeString:
    """A choice's text: like `qtext`, but inline (no paragraphs)."""
    if not text:
        return mark_safe("")
    text = str(text)
    if text_format == "plain":
        return mark_safe(escape(text))  # noqa: S308 - escaped
    html = markdown_parser("table").renderInline(text) if text_format == "markdown" else text
    return INLINE.safe(html)


@register.filter
def qtype_label(qtype: str) -> str:
    return QUESTION_TYPE_LABELS.get(qtype, qtype)


@register.filter
def qtype_template(qtype: str) -> str:
    """The template of a question type's inputs and review (`{% include q.type|qtype_template
    with mode="answer" %}` or `mode="review"`)."""
    return qtypes.get(qtype).template


@register.filter
def state_label(state: str) -> str:
    return STATE_LABELS.get(state, state)


@register.filter
def duration(value: timedelta | None) -> str:
    """20 minutes, 1 hour 30 minutes; "No limit" for None."""
    if value is None:
        return "No limit"
    if value.total_seconds() < 60:
        return "less than a minute"
    # Rounded down: "You will have 5 minutes" must not promise more than there is.
    minutes = int(value.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    parts = []
    if hours:
        parts.append(f"{hours} hour{'s' if hours != 1 else ''}")
    if minutes or not hours:
        parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    return " ".join(parts)


@register.filter
def clock(seconds: int | None) -> str:
    """Seconds as the countdown shows them: 19:05, or 1:02:03 past an hour."""
    if seconds is None:
        return ""
    hours, rest = divmod(max(0, int(seconds)), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@register.filter
def needs_grading(attempts: list[dict[str, Any]]) -> bool:
    """Whether a finished attempt waits for an essay mark: "Not yet graded" on every page."""
    return any(a["needs_grading"] and a["state"] == "finished" for a in attempts)


@register.filter
def percent(value: float | None) -> str:
    """A percentage (without the % sign) by the one rule, grading.round_percentage: 3.8."""
    rounded = grading.round_percentage(value)
    return "\u2013" if rounded is None else f"{rounded:.1f}"


@register.filter
def mark(value: float | None) -> str:
    """A mark without float noise: 1, 0.5, 0.33."""
    if value is None:
        return "\u2013"
    return f"{round(value, 2):g}"


@register.filter
def result_cells(fixed: list[Any]) -> SafeString:
    """A results row's student cells (name, attempts, grade, %, result), the HTML the
    template's per-cell tags produced, built in one call per row: at 300 students the
    template's lookups and `if`s were most of the page's time. Names are escaped."""
    username, last_name, first_name, _email, attempts, grade, max_grade, pct, passed, essay = fixed
    name = f"{escape(first_name)} {escape(last_name)}" if last_name or first_name else ""
    cells = [
        f'<th scope="row" class="grid-student">{name or escape(username)}'
        f'<span class="muted result-username"> {escape(username)}</span></th>',
        f"<td>{attempts}</td>",
    ]
    if grade is not None:
        cells.append(f"<td>{mark(grade)} / {mark(max_grade)}</td>")
    else:
        cells.append("<td>Needs grading</td>" if essay else "<td>\u2013</td>")
    cells.append(f"<td>{percent(pct)}</td>")
    if passed is True:
        result = '<span class="badge badge-pass">Pass</span>'
    elif passed is False:
        result = '<span class="badge badge-fail">Fail</span>'
    else:
        result = "\u2013"
    if essay:
        result += (
            ' <span class="badge badge-count-warn" title="An essay waits for a mark">Essay</span>'
        )
    cells.append(f"<td>{result}</td>")
    return mark_safe("".join(cells))  # noqa: S308 - every text part escaped above


@register.filter
def mark_cells(values: list[float | None]) -> SafeString:
    """A results row's question marks as `<td>` cells, formatted as `mark` does. One filter
    call per row instead of a template loop per cell: 6,000 cells at 300 students x 20
    questions were most of the page's rendering time. Marks are numbers (or the dash), so
    there is nothing to escape."""
    return mark_safe("".join([f"<td>{mark(value)}</td>" for value in values]))  # noqa: S308


@register.filter
def matched(response: dict | None, item_id: Any) -> int | None:
    """The choice id a matching response gives an item."""
    if not response:
        return None
    return (response.get("matches") or {}).get(str(item_id))


@register.filter
def has_choice(response: dict | None, choice_id: int) -> bool:
    """Whether a single- or multiple-choice response picked this choice id."""
    if not response:
        return False
    if "choice" in response:
        return response["choice"] == choice_id
    return choice_id in (response.get("choices") or [])


@register.filter
def choice_text(question: dict, choice_id: Any) -> str:
    for choice in question.get("choices", []):
        if choice["id"] == choice_id:
            return choice["text"]
    return ""


@register.inclusion_tag("quizzes/_session_quizzes.html", takes_context=True)
def session_quizzes(context, session) -> dict[str, Any]:
    """The session's quizzes as the viewer sees them, for the session page."""
    request = context["request"]
    accesses = selectors.quiz_list(user=request.user, course=session.course, session=session)
    role = context.get("role")
    return {
        "accesses": accesses,
        "course": session.course,
        "is_instructor": is_instructor(role),
        "is_staff": is_staff_role(role),
    }
