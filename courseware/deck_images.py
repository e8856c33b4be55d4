"""Which of a deck's images the Content-Security-Policy would block, and how to fix that.

The policy (django-csp, `CONTENT_SECURITY_POLICY` in settings) lets pages show images from this
site only, plus the origins an operator lists in `CSP_IMG_ORIGINS`; a deck that embeds
`![](https://elsewhere.org/figure.png)` imports fine and then shows a broken image, with the
reason only in the browser's console. The deck import preview and `manage.py import_deck`
name those origins and the fix instead. This reads the slides' sanitised HTML, the parser's
output, without changing it.

Sources are matched as CSP Level 3 matches them (https://www.w3.org/TR/CSP3/#match-url-to-source-list)
for what an `img-src` list holds here: `'self'`, `*`, scheme sources (`https:`) and host sources
with an optional scheme, `*.` wildcard, port and path.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import SplitResult, urlsplit

from django.conf import settings

from courseware.decks import ParsedDeck

_DEFAULT_PORTS = {"http": 80, "https": 443}
_SCHEME_SOURCE = re.compile(r"^[a-z][a-z0-9+.-]*:$")
_HOST_SOURCE = re.compile(
    r"^(?:(?P<scheme>[a-z][a-z0-9+.-]*)://)?"
    r"(?P<host>\*|(?:\*\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)*)"
    r"(?::(?P<port>\d+|\*))?"
    r"(?P<path>/[^?#]*)?$"
)


@dataclass(frozen=True)
class BlockedOrigin:
    origin: str  # e.g. https://upload.wikimedia.org
    slides: tuple[int, ...]  # 1-based slide numbers that show an image from it


@dataclass(frozen=True)
class BlockedImages:
    origins: tuple[BlockedOrigin, ...]
    allowed: tuple[str, ...]  # the origins CSP_IMG_ORIGINS lists now

    def __bool__(self) -> bool:
        return bool(self.origins)

    @property
    def summary(self) -> str:
        count = len({index for o in self.origins for index in o.slides})
        names = ", ".join(
            f"{o.origin} (slide{'s' if len(o.slides) > 1 else ''} {', '.join(map(str, o.slides))})"
            for o in self.origins
        )
        return (
            f"Images on {count} slide{'s' if count != 1 else ''} will not show: this site's "
            f"Content-Security-Policy does not allow images from {names}."
        )

    @property
    def setting(self) -> str:
        """The CSP_IMG_ORIGINS value that would allow them, keeping what it allows now."""
        new = [o.origin for o in self.origins if o.origin not in self.allowed]
        return "CSP_IMG_ORIGINS=" + ",".join([*self.allowed, *new])

    @property
    def fix(self) -> str:
        return (
            f"To show them, whoever runs the site adds the origins to CSP_IMG_ORIGINS "
            f"(`{self.setting}`) and restarts it; or put the images on this site and link "
            "them from there (data: URLs in a deck do not work either: the slides drop them)."
        )


def deck_blocked_images(*, deck: ParsedDeck, self_origin: str | None = None) -> BlockedImages:
    """The external image origins `deck` uses that the site's img-src policy would block.
    `self_origin` (e.g. `https://courses.example.org`) is the origin `'self'` stands for; a
    management command does not know it, so there only relative URLs count as this site."""
    sources = img_src_sources()
    by_origin: dict[str, list[int]] = {}
    for slide in deck.slides:
        for src in _image_sources(slide.html):
            url = _absolute(src)
            if url is None or _allowed(url, sources, self_origin):
                continue
            slides = by_origin.setdefault(_origin(url), [])
            if slide.index not in slides:
                slides.append(slide.index)
    return BlockedImages(
        origins=tuple(BlockedOrigin(o, tuple(s)) for o, s in by_origin.items()),
        allowed=tuple(s for s in sources if not s.startswith("'") and s != "data:"),
    )


def img_src_sources() -> list[str]:
    """The policy's img-src list (default-src where it has none), as settings give it."""
    directives = settings.CONTENT_SECURITY_POLICY.get("DIRECTIVES", {})
    return list(directives.get("img-src", directives.get("default-src", [])))


class _ImageSources(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.sources: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        src = dict(attrs).get("src")
        if tag == "img" and src:
            self.sources.append(src.strip())


def _image_sources(slide_html: str) -> list[str]:
    parser = _ImageSources()
    parser.feed(slide_html)
    parser.close()
    return parser.sources


def _absolute(src: str) -> SplitResult | None:
    """The URL of an absolute or protocol-relative src; None for a relative one (this site)."""
    if src.startswith("//"):
        src = "https:" + src  # the scheme of the page, https in production
    url = urlsplit(src)
    return url if url.scheme else None


def _origin(url: SplitResult) -> str:
    if not url.netloc:
        return f"{url.scheme}:"
    port = f":{url.port}" if url.port and url.port != _DEFAULT_PORTS.get(url.scheme) else ""
    return f"{url.scheme}://{(url.hostname or '').lower()}{port}"


def _allowed(url: SplitResult, sources: Sequence[str], self_origin: str | None) -> bool:
    return any(_matches(source.strip().lower(), url, self_origin) for source in sources)


def _matches(source: str, url: SplitResult, self_origin: str | None) -> bool:
    scheme = url.scheme.lower()
    if source == "'self'":
        return self_origin is not None and _origin(url) == self_origin.rstrip("/").lower()
    if source == "*":
        return scheme in _DEFAULT_PORTS
    if _SCHEME_SOURCE.match(source):
        return scheme == source[:-1] or (source == "http:" and scheme == "https")
    found = _HOST_SOURCE.match(source)
    if found is None or not url.hostname:
        return False  # 'none', 'unsafe-inline', nonces: never an image URL
    return _host_source_matches(found, url, scheme)


def _host_source_matches(found: re.Match[str], url: SplitResult, scheme: str) -> bool:
    wanted_scheme, host, port, path = found["scheme"], found["host"], found["port"], found["path"]
    if wanted_scheme:
        if not (scheme == wanted_scheme or (wanted_scheme == "http" and scheme == "https")):
            return False
    elif scheme not in _DEFAULT_PORTS:
        return False
    hostname = url.hostname.lower() if url.hostname else ""
    if host.startswith("*."):
        if not hostname.endswith(host[1:]):
            return False
    elif host != "*" and hostname != host:
        return False
    effective = url.port or _DEFAULT_PORTS.get(scheme)
    if port is None:  # the default port of the URL's own scheme (http://x allows https://x)
        if effective != _DEFAULT_PORTS.get(scheme):
            return False
    elif port != "*" and effective != int(port):
        return False
    if path and path != "/":
        return url.path.startswith(path) if path.endswith("/") else url.path == path
    return True
