"""Marp deck parser: plain Python, no database.

`parse_deck(source)` turns a Marp markdown deck into a `ParsedDeck` or raises `DeckError`
(an ApplicationError with code "invalid_deck", a message naming what is missing or wrong and
how to fix it, and the 1-based line number where it applies).

Slides and comments follow Marp (checked against the real renderer by
tests/courseware/test_deck_marp_differential.py): the body is parsed once with markdown-it plus
ports of Marpit's comment rules, split at its top-level rules (and `headingDivider` headings),
then each slide is parsed on its own. Comments come from the token stream, so a comment inside
code stays code and a multi-line comment, `---` lines and all, stays one hidden note.
"""

from __future__ import annotations

import html
import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache

import yaml
from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

from core.exceptions import ApplicationError
from core.sanitize import deck_policy


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
    start_line: int = 0  # 1-based line of the deck where this slide's markdown starts


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
        return "".join(_section_html(slide) for slide in self.slides)

    @property
    def speaker_notes(self) -> list[dict]:
        return [{"slide": s.index, "text": n} for s in self.slides for n in s.notes]


def parse_deck(source: str) -> ParsedDeck:
    """Parse a Marp deck. Raises DeckError when the deck is empty, not text, has broken
    front matter or lacks a session number or title."""
    lines = _as_text(source).split("\n")
    front_matter, body_start = _read_front_matter(lines)
    sources = _split_slides(
        lines[body_start:], first_line=body_start + 1, front_matter=front_matter
    )
    if not any(line.strip() for source in sources for line in source.lines):
        raise DeckError("The deck has no slides: add slide content after the front matter.")
    slides = _parse_slides(sources, initial_class=str(front_matter.get("class") or ""))
    number, title = _number_and_title(front_matter, slides, lines)
    course_code, course_title = _course(next((s for s in slides if s.tokens), slides[0]))
    objectives = _first_run_with_heading(slides, _is_objectives_heading)
    homework = _first_run_with_heading(slides, _is_homework_heading)
    return ParsedDeck(
        number=number,
        title=title,
        lecturer=_lecturer(front_matter, slides, lines),
        objectives=[item for slide in objectives for item in _top_level_items(slide.tokens)],
        homework=[item for slide in homework for item in _top_level_items(slide.tokens)],
        slides=[parsed.slide for parsed in slides],
        front_matter=front_matter,
        homework_intro=_joined_paragraphs(homework),
        date=_deck_date(front_matter, lines),
        course_code=_front_matter_str(front_matter, "course") or course_code,
        course_title=course_title,
    )


# --- Text and front matter -------------------------------------------------------------------

_SEPARATOR = re.compile(r"^---[ \t]*$")


def _as_text(source: str | bytes) -> str:
    if isinstance(source, bytes):
        try:
            source = source.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DeckError("The deck is not UTF-8 text: save it as UTF-8 markdown.") from exc
    if not isinstance(source, str):
        raise DeckError("The deck must be markdown text.")
    # A NUL byte never occurs in markdown; it means someone uploaded a binary file.
    if "\x00" in source:
        raise DeckError("The deck is not a text file: upload the Marp markdown (.md) file.")
    text = source.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise DeckError("The deck is empty: upload a Marp markdown deck with at least one slide.")
    return text


def _read_front_matter(lines: list[str]) -> tuple[dict, int]:
    """Return the front matter mapping and the index of the first body line."""
    if not _SEPARATOR.match(lines[0]):
        return {}, 0
    end = next((i for i in range(1, len(lines)) if _SEPARATOR.match(lines[i])), None)
    if end is None:
        raise DeckError(
            "The front matter that starts here is never closed: add a `---` line after it.",
            line=1,
        )
    try:
        data = yaml.load("\n".join(lines[1:end]), Loader=_FrontMatterLoader)  # noqa: S506
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise DeckError(
            f"The front matter is not valid YAML ({problem}). Put values that contain a colon "
            'in quotes, e.g. title: "Session 12: Introduction to Transformers".',
            line=mark.line + 2 if mark else 1,  # +1 for the opening `---`, +1 as 1-based
        ) from exc
    if data is None:
        return {}, end + 1
    if not isinstance(data, dict):
        raise DeckError("The front matter must be `key: value` lines, e.g. `marp: true`.", line=2)
    return data, end + 1


class _FrontMatterLoader(yaml.SafeLoader):
    """SafeLoader that keeps dates as strings, so an impossible date such as 2024-13-45 is
    reported by `_deck_date` with its line instead of crashing the YAML parser."""


_FrontMatterLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _front_matter_line(lines: list[str], key: str) -> int | None:
    """1-based line of `key:` in the front matter, for error messages."""
    pattern = re.compile(rf"^\s*{re.escape(key)}\s*:")
    for i, line in enumerate(lines[1:], start=2):
        if _SEPARATOR.match(line):
            return None
        if pattern.match(line):
            return i
    return None


def _front_matter_str(front_matter: dict, key: str) -> str:
    value = front_matter.get(key)
    return "" if value is None else str(value).strip()


# --- Splitting into slides -------------------------------------------------------------------


@dataclass(frozen=True)
class _SlideSource:
    start_line: int
    lines: list[str]


def _split_slides(lines: list[str], *, first_line: int, front_matter: dict) -> list[_SlideSource]:
    """Split the body where Marpit does: at every top-level horizontal rule (`---`, `***`,
    `___`, indented up to three spaces) and, with `headingDivider`, before those headings.
    Splitting the parsed token stream rather than the lines means a `---` inside fenced code
    or inside an HTML comment (a hidden solution) never starts a slide, and `Text` directly
    above `---` is a heading, as in Marp. Each slide is then parsed on its own, which gives
    the same blocks because slides only ever split between top-level blocks."""
    tokens = _markdown().parse("\n".join(lines))
    slides: list[_SlideSource] = []
    start = 0
    for line, skip in _slide_breaks(tokens, _heading_divider(front_matter, tokens)):
        slides.append(_SlideSource(first_line + start, lines[start:line]))
        start = line + skip
    slides.append(_SlideSource(first_line + start, lines[start:]))
    return slides


def _slide_breaks(tokens: list[Token], divider_tags: set[str]) -> list[tuple[int, int]]:
    """(line, lines to drop) of each slide break: a rule is dropped, a dividing heading opens
    the next slide. Marpit divides at a heading only once something visible precedes it,
    and at any nesting depth; a rule divides only at the top level."""
    breaks: list[tuple[int, int]] = []
    seen_visible = False
    for token in tokens:
        if token.map is not None:
            if token.type == "hr" and token.level == 0:
                breaks.append((token.map[0], 1))
            elif token.type == "heading_open" and token.tag in divider_tags and seen_visible:
                breaks.append((token.map[0], 0))
        seen_visible = seen_visible or not token.hidden
    return breaks


def _heading_divider(front_matter: dict, tokens: list[Token]) -> set[str]:
    """The heading tags Marp's `headingDivider` global directive divides at. Like every
    global directive, the last one in the deck (front matter first, then comments) wins."""
    tags: set[str] = set()
    values = [front_matter["headingDivider"]] if "headingDivider" in front_matter else []
    values += [
        directives["headingDivider"]
        for token in _comment_tokens(tokens)
        for comment in _comments_in(token.markup, None)
        if (directives := _as_directives(comment.text)) is not None
        and "headingDivider" in directives
    ]
    for value in values:
        levels = _heading_levels(value)
        if levels is not None:
            tags = {f"h{level}" for level in levels}
    return tags


def _heading_levels(value: object) -> list[int] | None:
    """Levels as Marpit reads them: `2` means h1 and h2, `[1, 3]` exactly those, `false`
    none; anything else leaves the previous value (None)."""
    if isinstance(value, str):
        try:
            value = yaml.safe_load(value)
        except yaml.YAMLError:
            return None
    if value is False:
        return []
    if isinstance(value, list):
        return [level for level in range(1, 7) if level in value or str(level) in value]
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 6:
        return list(range(1, value + 1))
    return None


# --- One slide: comments, directives, rendering ----------------------------------------------

_MARP_DIRECTIVES = frozenset(
    {
        "theme", "style", "headingDivider", "lang", "size", "math", "title", "author",
        "description", "image", "keywords", "url", "marp", "paginate", "header", "footer",
        "class", "backgroundColor", "backgroundImage", "backgroundPosition",
        "backgroundRepeat", "backgroundSize", "color",
    }
)  # fmt: skip
_COMMENT = re.compile(r"<!--+(.*?)(?:--+>|\Z)", re.S)
_DIRECTIVE_LINE = re.compile(r"^\s*(?P<key>_?[A-Za-z]+)\s*:\s*(?P<value>.*?)\s*$")
# Marp's fitting-header marker, `# <!-- fit --> Title`, is markup rather than a note.
_NOT_NOTES = frozenset({"", "fit"})
# Tool comments that Marp does not count as notes (prettier, markdownlint, remark-lint).
_MAGIC_COMMENT = re.compile(
    r"^(?:prettier-ignore(?:-(?:start|end))?|markdownlint-(?:(?:disable|enable).*|capture|restore)"
    r"|lint (?:disable|enable|ignore).*)$"
)


@dataclass(frozen=True)
class _Comment:
    raw: str
    text: str
    map: tuple[int, int] | None  # the slide lines of the token that held it
    whole_lines: bool = False  # a block comment: its lines go entirely, as in Marp


@dataclass(frozen=True)
class _ParsedSlide:
    slide: Slide
    tokens: list[Token]

    @property
    def start_line(self) -> int:
        return self.slide.start_line


def _parse_slides(sources: list[_SlideSource], *, initial_class: str) -> list[_ParsedSlide]:
    parsed: list[_ParsedSlide] = []
    inherited_class = initial_class
    for index, source in enumerate(sources, start=1):
        slide, inherited_class = _parse_slide(source, index, inherited_class)
        parsed.append(slide)
    return parsed


def _parse_slide(
    source: _SlideSource, index: int, inherited_class: str
) -> tuple[_ParsedSlide, str]:
    """Parse one slide; return it and the `class` that carries over to the next slide."""
    md = _markdown()
    tokens = md.parse("\n".join(source.lines))
    comments = _take_comments(tokens)
    directives: dict[str, str] = {}
    notes: list[str] = []
    for comment in comments:
        found = _as_directives(comment.text)
        if found is not None:
            directives.update(found)
        elif comment.text not in _NOT_NOTES and not _MAGIC_COMMENT.match(comment.text):
            notes.append(comment.text)
    # Marp: `class` applies to this and later slides, `_class` to this slide only.
    inherited_class = directives.get("class", inherited_class)
    css_class = _sanitise_class(directives.get("_class", inherited_class))
    _align_table_cells(tokens)
    _iframes_to_links(tokens)
    slide = Slide(
        index=index,
        markdown=_markdown_without_comments(source.lines, comments),
        html=_sanitise(md.renderer.render(tokens, md.options, {})),
        css_class=css_class,
        notes=notes,
        directives=directives,
        start_line=source.start_line,
    )
    return _ParsedSlide(slide, tokens), inherited_class


def _take_comments(tokens: list[Token]) -> list[_Comment]:
    """Collect the slide's HTML comments in order: Marp comments (never rendered), then any
    comment inside a raw HTML block, which is cut out of the block. Code stays code."""
    comments: list[_Comment] = []
    for token in tokens:
        where = (token.map[0], token.map[1]) if token.map else None
        if token.type == _MARP_COMMENT:
            comments += _comments_in(token.markup, where, whole_lines=True)
        elif token.type == "html_block":
            comments += _comments_in(token.content, where)
            remaining = _COMMENT.sub("", token.content)
            token.content = remaining if remaining.strip() else ""
        elif token.type == "inline":
            for child in token.children or []:
                if child.type == _MARP_COMMENT:
                    comments += _comments_in(child.markup, where)
    return comments


def _comment_tokens(tokens: list[Token]) -> list[Token]:
    """Every Marp comment token, block or inline, in deck order."""
    found = []
    for token in tokens:
        if token.type == _MARP_COMMENT:
            found.append(token)
        elif token.type == "inline":
            found += [child for child in token.children or [] if child.type == _MARP_COMMENT]
    return found


def _comments_in(
    raw_html: str, where: tuple[int, int] | None, *, whole_lines: bool = False
) -> list[_Comment]:
    return [
        _Comment(m[0], _note_text(m[1]), where, whole_lines) for m in _COMMENT.finditer(raw_html)
    ]


def _note_text(comment_body: str) -> str:
    return textwrap.dedent(comment_body).strip()


def _as_directives(text: str) -> dict[str, str] | None:
    """`{key: value}` when every line of the comment is a Marp directive, else None."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return None
    directives = {}
    for line in lines:
        match = _DIRECTIVE_LINE.match(line)
        if not match or match["key"].removeprefix("_") not in _MARP_DIRECTIVES:
            return None
        directives[match["key"]] = _unquote(match["value"])
    return directives


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _sanitise_class(value: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9 _-]", "", value.lower()).split())


def _markdown_without_comments(lines: list[str], comments: list[_Comment]) -> str:
    """The slide's markdown with its comments cut out. Works on the token's line range, last
    first, so earlier ranges keep their positions."""
    lines = list(lines)
    by_range: dict[tuple[int, int], list[str]] = {}
    for comment in comments:
        if comment.map:
            by_range.setdefault(comment.map, []).append(comment.raw)
    whole = {comment.map for comment in comments if comment.whole_lines}
    for (start, end), raws in sorted(by_range.items(), reverse=True):
        if (start, end) in whole:
            del lines[start:end]
            continue
        region = "\n".join(lines[start:end])
        for raw in raws:
            whole_line = re.compile(rf"^[ \t]*{re.escape(raw)}[ \t]*(?:\n|\Z)", re.M)
            region = (
                whole_line.sub("", region, count=1)
                if whole_line.search(region)
                else region.replace(raw, "", 1)
            )
        lines[start:end] = region.split("\n") if region else []
    return "\n".join(lines).strip("\n")


def _align_table_cells(tokens: list[Token]) -> None:
    """markdown-it aligns table cells with a style attribute, which the sanitiser strips;
    move it to the `align` attribute instead."""
    for token in tokens:
        style = token.attrGet("style") if token.type in ("th_open", "td_open") else None
        if isinstance(style, str) and style.startswith("text-align:"):
            del token.attrs["style"]
            token.attrSet("align", style.removeprefix("text-align:"))


# --- Rendering and sanitising ----------------------------------------------------------------

_MARP_IMAGE_KEYWORD = re.compile(
    r"^(?:w|h|width|height|blur|brightness|contrast|drop-shadow|grayscale|hue-rotate|invert"
    r"|opacity|saturate|sepia)(?::\S*)?$"
)


@cache
def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    md.block.ruler.before("html_block", _MARP_COMMENT, _marp_comment_block)
    md.inline.ruler.before("html_inline", _MARP_COMMENT, _marp_comment_inline)
    md.add_render_rule(_MARP_COMMENT, lambda *args: "")
    md.add_render_rule("image", _render_image)
    return md


# Marpit's comment rules (@marp-team/marpit lib/markdown/comment.js), ported so that a deck
# hides exactly what Marp hides: a line starting `<!--` opens a comment that runs to the end
# of the first line containing `-->` (or to the end of the deck), taking `---` lines, blank
# lines and any text after `-->` on that line with it; inside a paragraph a comment ends at
# the first `-->` and may contain `--`.
_MARP_COMMENT = "marp_comment"
_INLINE_MARP_COMMENT = re.compile(r"<!--+\s*[\s\S]*?\s*--+>")


def _marp_comment_block(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    pos = state.bMarks[start_line] + state.tShift[start_line]
    line = state.src[pos : state.eMarks[start_line]]
    if not line.startswith("<!--"):
        return False
    if silent:
        return True
    next_line = start_line + 1
    if "-->" not in line:
        while next_line < end_line:
            if state.sCount[next_line] < state.blkIndent:
                break
            pos = state.bMarks[next_line] + state.tShift[next_line]
            line = state.src[pos : state.eMarks[next_line]]
            next_line += 1
            if "-->" in line:
                break
    state.line = next_line
    token = state.push(_MARP_COMMENT, "", 0)
    token.map = [start_line, next_line]
    token.markup = state.getLines(start_line, next_line, state.blkIndent, True)
    token.hidden = True
    return True


def _marp_comment_inline(state: StateInline, silent: bool) -> bool:
    if not state.src.startswith("<!", state.pos) or state.pos + 2 >= state.posMax:
        return False
    match = _INLINE_MARP_COMMENT.match(state.src, state.pos)
    if not match:
        return False
    if not silent:
        token = state.push(_MARP_COMMENT, "", 0)
        token.markup = match[0]
        token.hidden = True
    state.pos = match.end()
    return True


def _render_image(self, tokens: list[Token], idx: int, options, env) -> str:
    """Marp puts sizing keywords in the alt text; a `bg` image is decoration, so it gets an
    empty alt and the slide-bg class."""
    token = tokens[idx]
    words = self.renderInlineAsText(token.children or [], options, env).split()
    if words[:1] == ["bg"]:
        token.attrSet("class", "slide-bg")
        token.attrSet("alt", "")
    else:
        token.attrSet("alt", " ".join(w for w in words if not _MARP_IMAGE_KEYWORD.match(w)))
    return self.renderToken(tokens, idx, options, env)


# Attribute values may contain `>`; the closing tag is optional, but never past another iframe.
_IFRAME = re.compile(
    r"""<iframe\b(?P<attrs>(?:"[^"]*"|'[^']*'|[^'">])*)>"""
    r"(?:(?:(?!<iframe\b)[\s\S])*?</iframe\s*>)?",
    re.IGNORECASE,
)
_ATTRIBUTE = re.compile(
    r"""(?P<name>[^\s=/>]+)(?:\s*=\s*(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<bare>[^\s"'=<>`]+)))?"""
)


def _iframes_to_links(tokens: list[Token]) -> None:
    """The sanitiser drops iframes; keep what they pointed at as a link. Works on raw-HTML
    tokens so that an iframe inside a paragraph gets an inline link, not a nested <p>."""
    for token in tokens:
        if token.type == "html_block":
            token.content = _IFRAME.sub(lambda m: _iframe_link(m, "p"), token.content)
        elif token.type == "inline":
            for child in token.children or []:
                if child.type == "html_inline":
                    child.content = _IFRAME.sub(lambda m: _iframe_link(m, "span"), child.content)


def _iframe_link(match: re.Match[str], wrapper: str) -> str:
    attrs = {
        m["name"].lower(): html.unescape(m["dq"] or m["sq"] or m["bare"] or "")
        for m in _ATTRIBUTE.finditer(match["attrs"])
    }
    src = attrs.get("src", "").strip()
    if src.startswith("//"):
        src = "https:" + src
    if not re.match(r"https?://", src, re.IGNORECASE):
        return ""
    title = " ".join(attrs.get("title", "").split()) or src
    return (
        f'<{wrapper} class="embed-link">Embedded: '
        f'<a href="{html.escape(src)}">{html.escape(title, quote=False)}</a></{wrapper}>'
    )


_ALLOWED_CLASSES: dict[str, Callable[[str], bool]] = {
    "code": lambda value: re.fullmatch(r"language-[\w+#.-]+", value) is not None,
    "img": lambda value: value == "slide-bg",
    "p": lambda value: value == "embed-link",
    "span": lambda value: value == "embed-link",
}


def _allowed_attribute(tag: str, attribute: str, value: str) -> str | None:
    if attribute != "class":
        return value
    allowed = _ALLOWED_CLASSES.get(tag)
    return value if allowed and allowed(value) else None


# The XSS policy is core.sanitize's; only which Marp classes are real is the deck's to say.
_DECK_POLICY = deck_policy(
    attribute_filter=_allowed_attribute, classes_on=frozenset(_ALLOWED_CLASSES)
)


def _sanitise(rendered: str) -> str:
    return _DECK_POLICY.clean(rendered).strip()


def _section_html(slide: Slide) -> str:
    css = html.escape(f"slide {slide.css_class}".strip())
    return (
        f'<section class="{css}" id="slide-{slide.index}" aria-label="Slide {slide.index}">'
        f"{slide.html}</section>"
    )


# --- Reading facts from the tokens -----------------------------------------------------------

_SESSION_TITLE = re.compile(
    r"^session\s*(?P<number>\d+)?\s*[:\-\u2013\u2014]\s*(?P<title>.+)$", re.IGNORECASE
)
_COURSE_HEADING = re.compile(
    r"^(?P<code>(?=[A-Za-z0-9_.-]*\d)[A-Za-z0-9][A-Za-z0-9_.-]{1,39})"
    r"\s*[-:\u2013\u2014]\s*(?P<title>.+)$"
)
_LECTURER = re.compile(r"^[*_\s]*lecturer[*_\s]*:[*_\s]*(?P<name>.*?)[*_\s\\]*$", re.IGNORECASE)
_TITLE_MAX_LENGTH = 300  # Session.title
_LECTURER_MAX_LENGTH = 200  # Session.lecturer
_NO_TITLE_HELP = (
    "add a heading like `## Session 12: Introduction to Transformers` to the first slide, "
    'or `title: "Session 12: Introduction to Transformers"` to the front matter.'
)


def _plain_text(children: list[Token]) -> str:
    """Inline tokens as text: emphasis markers, images and HTML tags dropped."""
    parts = []
    for token in children:
        if token.type in ("text", "code_inline"):
            parts.append(token.content)
        elif token.type in ("softbreak", "hardbreak", "html_inline"):
            parts.append(" ")
    return " ".join("".join(parts).split())


def _inline_plain_text(markdown: str) -> str:
    tokens = _markdown().parseInline(markdown)
    return _plain_text(tokens[0].children or []) if tokens else ""


def _headings(slide: _ParsedSlide) -> list[tuple[str, str, int]]:
    """(tag, plain text, deck line) of every heading on the slide."""
    found = []
    for i, token in enumerate(slide.tokens):
        if token.type == "heading_open":
            line = slide.start_line + (token.map[0] if token.map else 0)
            found.append((token.tag, _plain_text(slide.tokens[i + 1].children or []), line))
    return found


def _split_session_title(text: str) -> tuple[int | None, str]:
    match = _SESSION_TITLE.match(text)
    if not match:
        return None, text
    return (int(match["number"]) if match["number"] else None), match["title"].strip()


def _number_and_title(
    front_matter: dict, slides: list[_ParsedSlide], lines: list[str]
) -> tuple[int, str]:
    heading = next((h for s in slides for h in _headings(s) if _SESSION_TITLE.match(h[1])), None)
    heading_number, heading_title = _split_session_title(heading[1]) if heading else (None, "")
    fm_title = _inline_plain_text(_front_matter_str(front_matter, "title"))
    if fm_title:
        number, title = _split_session_title(fm_title)
        line = _front_matter_line(lines, "title")
    else:
        number, title = heading_number, heading_title
        line = heading[2] if heading else None
    if not title:
        raise DeckError(f"No session title found: {_NO_TITLE_HELP}")
    number = _reconcile_numbers(number, _front_matter_session(front_matter, lines), line)
    if number is None:
        number = heading_number  # a front matter title may leave the number to the heading
    if number is None:
        raise DeckError(
            f'The session title "{title}" has no session number: write it as '
            f"`Session 12: {title}`, or add `session: 12` to the front matter.",
            line=line,
        )
    if number < 1:
        raise DeckError("The session number must be 1 or more.", line=line)
    if len(title) > _TITLE_MAX_LENGTH:
        raise DeckError(
            f"The session title is longer than {_TITLE_MAX_LENGTH} characters: shorten it.",
            line=line,
        )
    return number, title


def _reconcile_numbers(
    title_number: int | None, fm_number: int | None, line: int | None
) -> int | None:
    if title_number is not None and fm_number is not None and title_number != fm_number:
        raise DeckError(
            f"The title says session {title_number} but the front matter says "
            f"`session: {fm_number}`: make them agree.",
            line=line,
        )
    return title_number if title_number is not None else fm_number


def _front_matter_session(front_matter: dict, lines: list[str]) -> int | None:
    value = front_matter.get("session")
    if value is None:
        return None
    if isinstance(value, bool) or not re.fullmatch(r"\s*\d+\s*", str(value)):
        raise DeckError(
            f"`session: {value}` is not a session number: write a whole number, "
            "e.g. `session: 12`.",
            line=_front_matter_line(lines, "session"),
        )
    return int(value)


def _lecturer(front_matter: dict, slides: list[_ParsedSlide], lines: list[str]) -> str:
    name = _inline_plain_text(_front_matter_str(front_matter, "lecturer"))
    line = _front_matter_line(lines, "lecturer")
    if not name:
        name, line = _lecturer_line(slides)
    if len(name) > _LECTURER_MAX_LENGTH:
        raise DeckError(
            f"The lecturer name is longer than {_LECTURER_MAX_LENGTH} characters.", line=line
        )
    return name


def _lecturer_line(slides: list[_ParsedSlide]) -> tuple[str, int | None]:
    """The first `Lecturer: Name` line of the deck, outside code."""
    for slide in slides:
        for token in slide.tokens:
            if token.type != "inline":
                continue
            for offset, text in enumerate(token.content.split("\n")):
                match = _LECTURER.match(text)
                if match and match["name"]:
                    line = slide.start_line + (token.map[0] if token.map else 0) + offset
                    return _inline_plain_text(match["name"]), line
    return "", None


def _course(lead: _ParsedSlide) -> tuple[str | None, str | None]:
    """Course code and title from the lead slide's `# CODE - Title` heading."""
    h1 = next((text for tag, text, _ in _headings(lead) if tag == "h1"), None)
    match = _COURSE_HEADING.match(h1 or "")
    if not match:
        return None, None
    return match["code"], match["title"].strip()


def _deck_date(front_matter: dict, lines: list[str]) -> date | None:
    value = front_matter.get("date")
    if value is None or value == "":
        return None
    text = str(value).strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text).date()
    except ValueError:
        raise DeckError(
            f"`date: {text}` is not a valid date: write it as YYYY-MM-DD, e.g. `date: 2024-05-14`.",
            line=_front_matter_line(lines, "date"),
        ) from None


# Headings (h1/h2 only, any case, optional trailing colon) that name the objectives slide.
# A sub-heading (h3+) never does: decks use `### Objectives` inside other slides.
OBJECTIVES_HEADINGS = frozenset(
    {
        "learning objectives", "learning outcomes", "learning goals", "objectives",
        "outcomes", "goals", "session objectives", "session outcomes", "session goals",
        "lesson objectives", "lesson outcomes", "lesson goals",
    }
)  # fmt: skip
# "(cont.)", "(continued)", "- Part 2", ": Part 1" after a heading: the list goes on.
_CONTINUATION = re.compile(
    r"(?:\s*[:\-\u2013\u2014]?\s*(?:\((?:cont(?:inued|'d|\.)?|part\s*\d+)\)"
    r"|cont(?:inued|'d|\.)|part\s*\d+))*\s*:?\s*$",
    re.IGNORECASE,
)
_HOMEWORK_HEADING = re.compile(r"^home\s?work\b", re.IGNORECASE)


def _is_objectives_heading(text: str) -> bool:
    words = " ".join(_CONTINUATION.sub("", text).split()).lower()
    return words in OBJECTIVES_HEADINGS


def _is_homework_heading(text: str) -> bool:
    return _HOMEWORK_HEADING.match(text.strip()) is not None


def _first_run_with_heading(
    slides: list[_ParsedSlide], matches: Callable[[str], bool]
) -> list[_ParsedSlide]:
    """The first slide with a matching `#`/`##` heading and the slides straight after it that
    have one too ("Homework: Part 1", "Homework (cont.)"), whose lists are read in order."""
    run: list[_ParsedSlide] = []
    for slide in slides:
        if any(tag in ("h1", "h2") and matches(text) for tag, text, _ in _headings(slide)):
            run.append(slide)
        elif run:
            break
    return run


def _top_level_items(tokens: list[Token]) -> list[str]:
    """Text of each top-level list item (bulleted or numbered), inline markdown kept, nested
    lists left out. Items with no text (e.g. only an image) are skipped."""
    items: list[str] = []
    paragraphs: list[Token] | None = None
    for i, token in enumerate(tokens):
        if token.type == "list_item_open" and token.level == 1:
            paragraphs = []
        elif token.type == "paragraph_open" and token.level == 2 and paragraphs is not None:
            paragraphs.append(tokens[i + 1])
        elif token.type == "list_item_close" and token.level == 1 and paragraphs is not None:
            if any(_plain_text(p.children or []) for p in paragraphs):
                items.append(" ".join(_joined_lines(p.content) for p in paragraphs))
            paragraphs = None
    return items


def _joined_lines(content: str) -> str:
    return " ".join(line.strip() for line in content.split("\n") if line.strip())


def _joined_paragraphs(slides: list[_ParsedSlide]) -> str:
    return "\n\n".join(text for slide in slides if (text := _top_level_paragraphs(slide.tokens)))


def _top_level_paragraphs(tokens: list[Token]) -> str:
    """Plain text of the paragraphs outside lists and quotes (e.g. `**Next Week**: …`)."""
    texts = [
        _plain_text(tokens[i + 1].children or [])
        for i, token in enumerate(tokens)
        if token.type == "paragraph_open" and token.level == 0
    ]
    return "\n\n".join(text for text in texts if text)
