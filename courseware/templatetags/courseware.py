"""Template filters for the portal: inline markdown and homework due-date state."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString, mark_safe

from core.sanitize import INLINE, markdown_parser
from courseware.models import HomeworkTask
from courseware.services import is_overdue as _is_overdue

register = template.Library()


@register.filter
def inline_md(text: str | None) -> SafeString:
    """One line of markdown (`**bold**`, `*em*`, `` `code` ``, links) as sanitised HTML."""
    if not text:
        return mark_safe("")
    return INLINE.safe(markdown_parser("strikethrough").renderInline(str(text)))


@register.filter
def is_overdue(task: HomeworkTask) -> bool:
    return _is_overdue(task)
