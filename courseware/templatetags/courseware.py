"""Template filters for the portal: inline markdown and homework due-date state."""

from __future__ import annotations

from functools import cache

import nh3
from django import template
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

from courseware.models import HomeworkTask
from courseware.services import is_overdue as _is_overdue

register = template.Library()

INLINE_TAGS = {"strong", "em", "code", "a", "s", "br"}
INLINE_ATTRIBUTES = {"a": {"href", "title"}}
URL_SCHEMES = {"http", "https", "mailto"}


@cache
def _markdown() -> MarkdownIt:
    # Raw HTML in the text is escaped, not passed through; links open in place.
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("strikethrough")


@register.filter
def inline_md(text: str | None) -> SafeString:
    """One line of markdown (`**bold**`, `*em*`, `` `code` ``, links) as sanitised HTML."""
    if not text:
        return mark_safe("")
    html = _markdown().renderInline(str(text))
    cleaned = nh3.clean(
        html,
        tags=INLINE_TAGS,
        attributes=INLINE_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )
    return mark_safe(cleaned)  # noqa: S308 - sanitised by nh3 with an inline-only allow-list


@register.filter
def is_overdue(task: HomeworkTask) -> bool:
    return _is_overdue(task)
