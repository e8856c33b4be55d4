"""Differential test: every fixture deck, split and hidden exactly as the real Marp renders it.

`marp_render.mjs` renders each deck with @marp-team/marp-core (pinned in package.json and
installed by `make test` through `npm ci`); this test compares, slide by slide, the text a
reader sees there with the text our parser puts on the page. A hidden solution that Marp keeps
in a comment but the portal showed as slides fails here.
"""

import json
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from courseware.decks import DeckError, parse_deck
from tests.conftest import FIXTURES

ROOT = Path(__file__).resolve().parents[2]
RENDER_SCRIPT = Path(__file__).with_name("marp_render.mjs")
MARP_CORE = ROOT / "node_modules" / "@marp-team" / "marp-core" / "package.json"
DECKS = sorted((FIXTURES / "decks").glob("*.md")) + sorted((ROOT / "demo" / "decks").glob("*.md"))
VALID_DECKS = [path for path in DECKS if not path.name.startswith("broken-")]

# Never shown as slide text: code and styles, plus what each side deliberately renders
# differently. Marp repeats a `header`/`footer` directive on every slide and the portal does
# not; the portal turns an <iframe> (dropped by the sanitiser) into an "Embedded: …" link.
_HIDDEN_TAGS = {"script", "style", "template", "noscript", "iframe", "header", "footer"}
_HIDDEN_CLASSES = {"embed-link"}
_VOID_TAGS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
# Tags that break a line: text on either side of them is separate words. Inline tags (such as
# highlight.js's <span>s in Marp's code blocks) do not split a word.
_BREAKING_TAGS = {
    "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption",
    "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "li", "ol", "p", "pre", "section",
    "table", "td", "th", "tr", "ul",
}  # fmt: skip


class _VisibleText(HTMLParser):
    """Text a browser shows for an HTML fragment (comments and hidden elements left out),
    with whitespace collapsed so that line wrapping in the two renderings does not matter."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden: list[str] = []  # open tags of the hidden element we are inside

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BREAKING_TAGS:
            self.parts.append(" ")
        if tag in _VOID_TAGS:
            return
        classes = set((dict(attrs).get("class") or "").split())
        if self.hidden or tag in _HIDDEN_TAGS or classes & _HIDDEN_CLASSES:
            self.hidden.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _BREAKING_TAGS:
            self.parts.append(" ")
        if self.hidden and self.hidden[-1] == tag:
            self.hidden.pop()

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)

    @classmethod
    def of(cls, fragment: str) -> str:
        parser = cls()
        parser.feed(fragment)
        parser.close()
        return " ".join("".join(parser.parts).split())


def _marp_render(paths: list[Path]) -> dict[str, list[str]]:
    node = shutil.which("node")
    assert node, "Node.js is needed to run the real Marp renderer: apt-get install nodejs npm"
    assert MARP_CORE.exists(), (
        "@marp-team/marp-core is not installed in node_modules: run `make assets` "
        "(or `npm ci`) in the repository root; `make test` does this."
    )
    done = subprocess.run(
        [node, str(RENDER_SCRIPT), *map(str, paths)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, f"marp_render.mjs failed: {done.stderr}"
    return {path: result["slides"] for path, result in json.loads(done.stdout).items()}


@pytest.fixture(scope="module")
def marp_slides() -> dict[str, list[str]]:
    return _marp_render(VALID_DECKS)


def test_the_fixtures_include_decks_with_hidden_solutions_continued_homework_and_outcomes():
    sources = "\n".join(path.read_text(encoding="utf-8") for path in VALID_DECKS)
    assert len(VALID_DECKS) >= 5
    assert "<!--\nSOLUTION" in sources and "Homework (cont.)" in sources
    assert "## Learning Outcomes" in sources and "headingDivider: 2" in sources


def test_every_deck_that_is_not_deliberately_broken_parses():
    for path in DECKS:
        if path in VALID_DECKS:
            parse_deck(path.read_text(encoding="utf-8"))
        else:
            with pytest.raises(DeckError):
                parse_deck(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", VALID_DECKS, ids=lambda path: path.name)
def test_slide_count_matches_marp(path, marp_slides):
    parsed = parse_deck(path.read_text(encoding="utf-8"))
    assert len(parsed.slides) == len(marp_slides[str(path)])


@pytest.mark.parametrize("path", VALID_DECKS, ids=lambda path: path.name)
def test_visible_text_of_each_slide_matches_marp(path, marp_slides):
    parsed = parse_deck(path.read_text(encoding="utf-8"))
    ours = [_VisibleText.of(slide.html) for slide in parsed.slides]
    marp = [_VisibleText.of(html) for html in marp_slides[str(path)]]
    assert ours == marp


def test_hidden_solutions_are_hidden_by_marp_and_by_the_portal(marp_slides):
    path = FIXTURES / "decks" / "session-07-cnn-hidden-solutions.md"
    parsed = parse_deck(path.read_text(encoding="utf-8"))
    for text in (parsed.slides_html, " ".join(marp_slides[str(path)])):
        assert "Solution: output size" not in text
        assert "448" not in text
        assert "--&gt;" not in text
    assert "Solution: output size" in parsed.speaker_notes[0]["text"]


def test_the_visible_text_reader_ignores_comments_code_and_footers():
    assert _VisibleText.of(
        "<section><footer>Logo</footer><h2>A &amp; B</h2><!-- hidden --><script>x()</script>"
        '<p class="embed-link">Embedded: <a href="#">v</a></p><p>shown<br>too</p>'
        '<pre><code><span>print</span>(<span>"hi"</span>)</code></pre></section>'
    ) == ('A & B shown too print("hi")')
