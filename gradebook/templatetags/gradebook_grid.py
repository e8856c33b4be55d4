"""The staff grid's body, rendered in Python: 300 students x 60 items is 18,000 cells, and
Django's template engine spends about 4 µs per variable and tag, which alone was several
times the page's 300 ms budget (bench/gradebook_page.py). The markup is the one the grid
template used to write per cell; presentation only."""

from __future__ import annotations

from functools import lru_cache

from django import template
from django.template.defaultfilters import floatformat
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

OVERRIDDEN = '<sup title="Overridden">*</sup>'
NONE = "\u2013"  # an en dash, as the template wrote for no value


@lru_cache(maxsize=4096)
def _number(value: float, digits: str) -> str:
    """`floatformat` (the template filter, so the text is the same), memoised: a grid holds
    few distinct scores."""
    return str(floatformat(value, digits))


def _cell(c, base: str, student_pk: int) -> str:
    if c is None:
        return '<td class="cell status-ungraded">\n          \n        </td>'
    classes = f"cell status-{c.status or 'ungraded'}{' dropped' if c.dropped else ''}"
    if c.excused:
        shown = "EX"
    elif c.points is not None:
        shown = _number(c.points, "-2")
    else:
        shown = NONE
    late = ""
    if c.deduction and not c.excused:
        d = _number(c.deduction, "-2")
        late = (
            f' <small class="late-deduction" title="Late: {d} points deducted by the '
            f"category's late policy\">(\u2212{d} late)</small>"
        )
    sup = OVERRIDDEN if c.override is not None else ""
    return (
        f'<td class="{classes}">\n          <a href="#cell-detail" '
        f'hx-get="{base}{c.item_id}/{student_pk}/" hx-target="#cell-detail">{shown}</a>'
        f"{late}{sup}\n        </td>"
    )


def _percent(value) -> str:
    return NONE if value is None else _number(value, "1")


def _totals(row) -> str:
    t = row.totals
    current = (
        f"{_percent(t.current_percent if t else None)}% {escape(t.current_letter if t else '')}"
    )
    final_override = row.final_override
    if final_override is not None:
        final = f"{_percent(final_override.percent)}% {escape(final_override.letter)}{OVERRIDDEN}"
    else:
        final = f"{_percent(t.final_percent if t else None)}% {escape(t.final_letter if t else '')}"
    return f'<td class="total-col">{current}</td>\n        <td class="total-col">{final}</td>'


@register.simple_tag
def gradebook_rows(grid) -> SafeString:
    """Every student's row of the grid: name, current and final totals (first, so they are in
    view without scrolling), then one cell per item."""
    slug = grid.course.slug
    base = reverse("gradebook-cell", kwargs={"code": slug, "item_id": 0, "student_id": 0})
    base = escape(base[: -len("0/0/")])
    out = []
    for row in grid.rows:
        student = row.student
        name = escape(student.get_full_name() or student.username)
        section = f" <small>{escape(row.section)}</small>" if row.section else ""
        cells = "\n        ".join(_cell(c, base, student.pk) for c in row.cells)
        out.append(
            f'      <tr>\n        <th scope="row" class="sticky-col">{name}{section}</th>\n'
            f"        {_totals(row)}\n        {cells}\n      </tr>"
        )
    return mark_safe("\n".join(out))  # noqa: S308 - every value above is escaped or a number
