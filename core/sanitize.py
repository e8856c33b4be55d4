"""The one sanitising policy (the XSS policy) for every HTML page fragment built from text
that a person wrote: Markdown or HTML in homework, question, lab and deck text.

Every renderer cleans with nh3 through a `Policy` defined here, never by calling nh3 itself,
so what is stripped is decided in one place: scripts and styles go with their content,
`on*` and `style` attributes are never allowed, links only keep http(s)/mailto URLs (decks:
nh3's safe defaults, which never include `javascript:`). The variants differ only in which
harmless formatting tags they keep, so each renderer's output stays exactly what it was.

User-authored Markdown is parsed by `markdown_parser`: raw HTML in it is escaped, not passed
through (decks are the exception: Marp decks are HTML-capable and their own parser in
courseware.decks feeds `DECK` instead).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache

import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

URL_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "noopener noreferrer nofollow"
LINK_ATTRIBUTES: Mapping[str, frozenset[str]] = {"a": frozenset({"href", "title"})}
#: nh3's own default, spelled out: these never survive as text either.
DROPPED_WITH_CONTENT = frozenset({"script", "style"})

AttributeFilter = Callable[[str, str, str], str | None]


@dataclass(frozen=True)
class Policy:
    """An nh3 allow-list. `url_schemes=None` means nh3's safe default list."""

    name: str
    tags: frozenset[str]
    attributes: Mapping[str, frozenset[str]] = field(default_factory=lambda: LINK_ATTRIBUTES)
    url_schemes: frozenset[str] | None = URL_SCHEMES
    link_rel: str = LINK_REL
    clean_content_tags: frozenset[str] = DROPPED_WITH_CONTENT
    attribute_filter: AttributeFilter | None = None
    set_tag_attribute_values: Mapping[str, Mapping[str, str]] | None = None

    def clean(self, html: str) -> str:
        options: dict = {
            "tags": set(self.tags),
            "attributes": {tag: set(attrs) for tag, attrs in self.attributes.items()},
            "link_rel": self.link_rel,
            "clean_content_tags": set(self.clean_content_tags),
            "strip_comments": True,
        }
        if self.url_schemes is not None:
            options["url_schemes"] = set(self.url_schemes)
        if self.attribute_filter is not None:
            options["attribute_filter"] = self.attribute_filter
        if self.set_tag_attribute_values is not None:
            options["set_tag_attribute_values"] = {
                tag: dict(values) for tag, values in self.set_tag_attribute_values.items()
            }
        return nh3.clean(html, **options)

    def safe(self, html: str) -> SafeString:
        """Cleaned HTML, marked safe for a template."""
        return mark_safe(self.clean(html))  # noqa: S308 - sanitised by nh3 with this allow-list


#: One line of text (a homework task, a choice): emphasis, code, links; no blocks, no images.
INLINE = Policy(
    name="inline",
    tags=frozenset(
        {"strong", "b", "em", "i", "u", "s", "sub", "sup", "code", "kbd", "a", "br", "span"}
    ),
)

#: Question and feedback text, which Moodle's formats let authors write in HTML: blocks,
#: tables and images, but no top-level headings (the page has its own).
_QUESTION_TAGS = frozenset({
    "p", "br", "strong", "b", "em", "i", "u", "s", "sub", "sup", "code", "pre", "kbd",
    "ul", "ol", "li", "blockquote", "a", "span", "div", "table", "thead", "tbody", "tr",
    "th", "td", "h3", "h4", "h5", "h6", "img", "hr",
})  # fmt: skip
QUESTION = Policy(
    name="question",
    tags=_QUESTION_TAGS,
    attributes={**LINK_ATTRIBUTES, "img": frozenset({"src", "alt", "width", "height"})},
)

#: A lab's instructions (Markdown only): blocks, headings (shifted down by the renderer) and
#: tables; no images.
_INSTRUCTIONS_TAGS = frozenset({
    "p", "br", "strong", "b", "em", "i", "s", "code", "pre", "kbd", "ul", "ol", "li",
    "blockquote", "a", "table", "thead", "tbody", "tr", "th", "td", "h1", "h2", "h3",
    "h4", "h5", "h6", "hr",
})  # fmt: skip
INSTRUCTIONS = Policy(name="instructions", tags=_INSTRUCTIONS_TAGS)


def deck_policy(*, attribute_filter: AttributeFilter, classes_on: frozenset[str]) -> Policy:
    """Slides of a Marp deck: nh3's default tags and attributes (decks are HTML-capable), plus
    the `class` attribute on `classes_on`, each value vetted by `attribute_filter` (the deck
    parser knows which Marp classes are real). Iframes, templates and noscript are dropped
    with their content; links open in a new tab."""
    attributes = {tag: frozenset(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()}
    attributes.update(
        {
            "a": frozenset({"href", "hreflang", "title"}),
            "abbr": frozenset({"title"}),
            "img": frozenset({"src", "alt", "title", "width", "height"}),
        }
    )
    for tag in classes_on:
        attributes[tag] = attributes.get(tag, frozenset()) | {"class"}
    return Policy(
        name="deck",
        tags=frozenset(nh3.ALLOWED_TAGS),
        attributes=attributes,
        url_schemes=None,
        link_rel="noopener noreferrer",
        clean_content_tags=DROPPED_WITH_CONTENT | {"iframe", "template", "noscript"},
        attribute_filter=attribute_filter,
        set_tag_attribute_values={"img": {"loading": "lazy"}, "a": {"target": "_blank"}},
    )


@cache
def markdown_parser(*rules: str) -> MarkdownIt:
    """CommonMark with `rules` enabled (e.g. "table", "strikethrough"). Raw HTML is escaped,
    bare URLs are not linked: only what the author wrote as Markdown becomes a tag."""
    md = MarkdownIt("commonmark", {"html": False, "linkify": False})
    return md.enable(list(rules)) if rules else md
