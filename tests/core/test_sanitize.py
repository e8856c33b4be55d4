"""The one XSS policy (core.sanitize): every renderer of user-written Markdown or HTML strips
scripts, event handlers, javascript: URLs, styles and iframes, whatever the text's format."""

from __future__ import annotations

from collections.abc import Callable
from html.parser import HTMLParser

import pytest

from core import sanitize
from courseware.decks import parse_deck
from courseware.templatetags.courseware import inline_md
from labs.templatetags.lab_tags import lab_md
from quizzes.templatetags.quiz_tags import qinline, qtext

VECTORS = {
    "script": "<script>alert(1)</script>",
    "event_handler": '<img src="http://x/a.png" onerror="alert(1)"> <b onclick="alert(1)">b</b>',
    "javascript_url": '<a href="javascript:alert(1)">html</a> [md](javascript:alert(1))',
    "style": '<style>body{display:none}</style><span style="color:red">s</span>',
    "iframe": '<iframe src="https://evil.example/"></iframe>',
}


def _deck(text: str) -> str:
    return parse_deck(f"---\nmarp: true\n---\n\n## Session 1: XSS\n\n{text}\n").slides_html


RENDERERS: dict[str, Callable[[str], str]] = {
    "courseware inline_md": inline_md,
    **{f"quizzes qtext {fmt}": (lambda t, f=fmt: qtext(t, f)) for fmt in ("moodle", "markdown")},
    **{
        f"quizzes qinline {fmt}": (lambda t, f=fmt: qinline(t, f)) for fmt in ("moodle", "markdown")
    },
    "labs lab_md": lab_md,
    "courseware deck slides": _deck,
}


class _Elements(HTMLParser):
    """The elements and attributes a browser would build from the HTML (escaped text is text)."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, attrs))


def _dangers(html: str) -> list[str]:
    dangers = []
    for tag, attrs in _Elements(html).found:
        if tag in {"script", "style", "iframe"}:
            dangers.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on") or name == "style":
                dangers.append(f"{tag}[{name}]")
            if name in {"href", "src"} and (value or "").strip().lower().startswith("javascript:"):
                dangers.append(f"{tag}[{name}={value}]")
    return dangers


@pytest.mark.parametrize("renderer", RENDERERS)
@pytest.mark.parametrize("vector", VECTORS)
def test_every_renderer_strips_the_xss_vector(renderer: str, vector: str) -> None:
    html = str(RENDERERS[renderer](VECTORS[vector]))
    assert _dangers(html) == [], html


def test_the_check_itself_sees_each_vector() -> None:
    # Unsanitised, every vector is caught: the test above cannot pass by parsing nothing.
    for vector in VECTORS.values():
        assert _dangers(vector) != []


@pytest.mark.parametrize("renderer", ["quizzes qtext moodle", "courseware deck slides"])
def test_scripts_and_styles_go_with_their_content(renderer: str) -> None:
    html = str(RENDERERS[renderer]("ok <script>alert(1)</script><style>b{}</style>"))
    assert "ok" in html
    assert "alert" not in html
    assert "b{}" not in html


def test_links_are_kept_with_rel_nofollow() -> None:
    html = str(inline_md("[docs](https://example.org/)"))
    assert html == '<a href="https://example.org/" rel="noopener noreferrer nofollow">docs</a>'


def test_no_policy_allows_an_event_handler_or_style_attribute() -> None:
    policies = [sanitize.INLINE, sanitize.QUESTION, sanitize.INSTRUCTIONS]
    policies.append(
        sanitize.deck_policy(attribute_filter=lambda t, a, v: v, classes_on=frozenset())
    )
    for policy in policies:
        for attributes in policy.attributes.values():
            assert "style" not in attributes
            assert not any(name.startswith("on") for name in attributes)
        assert policy.url_schemes is None or "javascript" not in policy.url_schemes


def test_markdown_parser_escapes_raw_html() -> None:
    assert sanitize.markdown_parser().render("<b>x</b>") == "<p>&lt;b&gt;x&lt;/b&gt;</p>\n"
