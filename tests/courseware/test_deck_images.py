"""Deck images the Content-Security-Policy would block are named at import, with the fix
(courseware.deck_images): on the preview page and by `manage.py import_deck`."""

from __future__ import annotations

import copy
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from courseware.deck_images import deck_blocked_images
from courseware.decks import parse_deck
from tests.conftest import SEED_DECK

SEED_IMAGE_ORIGINS = {
    "https://images-wixmp-ed30a86b8c4ca887773594c2.wixmp.com",
    "https://substackcdn.com",
    "https://miro.medium.com",
    "https://huggingface.co",
}


def _deck(*images: str):
    slides = "\n\n---\n\n".join(f"![figure]({src})" for src in images)
    return parse_deck(f"---\nmarp: true\n---\n## Session 4: Images\n\n---\n\n{slides}\n")


@pytest.fixture
def img_src(settings):
    """Set the policy's img-src list for one test, as CSP_IMG_ORIGINS would."""

    def set_sources(*sources: str) -> None:
        policy = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
        policy["DIRECTIVES"]["img-src"] = ["'self'", "data:", *sources]
        settings.CONTENT_SECURITY_POLICY = policy

    set_sources()
    return set_sources


def test_it_names_every_external_origin_of_the_seed_deck_and_the_slides_using_it(img_src):
    deck = parse_deck(SEED_DECK.read_text())

    blocked = deck_blocked_images(deck=deck)

    assert {o.origin for o in blocked.origins} == SEED_IMAGE_ORIGINS
    for origin in blocked.origins:
        using = [s.index for s in deck.slides if f'src="{origin.origin}/' in s.html]
        assert list(origin.slides) == using


def test_the_slides_still_show_the_images_as_the_deck_wrote_them(img_src):
    deck = _deck("https://upload.wikimedia.org/cat.png")

    deck_blocked_images(deck=deck)

    assert 'src="https://upload.wikimedia.org/cat.png"' in deck.slides[1].html


@pytest.mark.parametrize(
    ("sources", "src"),
    [
        (["https://upload.wikimedia.org"], "https://upload.wikimedia.org/cat.png"),
        (["upload.wikimedia.org"], "https://upload.wikimedia.org/cat.png"),
        (["http://upload.wikimedia.org"], "https://upload.wikimedia.org/cat.png"),
        (["https://*.wikimedia.org"], "https://upload.wikimedia.org/cat.png"),
        (["https:"], "https://upload.wikimedia.org/cat.png"),
        (["*"], "https://upload.wikimedia.org/cat.png"),
        (["https://upload.wikimedia.org/wiki/"], "https://upload.wikimedia.org/wiki/cat.png"),
        (["https://img.example.org:8443"], "https://img.example.org:8443/a.png"),
        (["https://upload.wikimedia.org"], "//upload.wikimedia.org/cat.png"),
        ([], "img/figure.png"),
        ([], "/static/figure.png"),
    ],
)
def test_an_image_the_policy_allows_is_not_reported(img_src, sources, src):
    img_src(*sources)

    assert not deck_blocked_images(deck=_deck(src))


@pytest.mark.parametrize(
    ("sources", "src", "origin"),
    [
        ([], "https://upload.wikimedia.org/cat.png", "https://upload.wikimedia.org"),
        (
            ["https://wikimedia.org"],
            "https://upload.wikimedia.org/a.png",
            "https://upload.wikimedia.org",
        ),
        (["https://*.wikimedia.org"], "https://wikimedia.org/a.png", "https://wikimedia.org"),
        (["https://img.example.org"], "http://img.example.org/a.png", "http://img.example.org"),
        (
            ["https://img.example.org"],
            "https://img.example.org:8443/a.png",
            "https://img.example.org:8443",
        ),
        (
            ["https://img.example.org/wiki/"],
            "https://img.example.org/other/a.png",
            "https://img.example.org",
        ),
        (
            ["https://img.example.org/a.png"],
            "https://img.example.org/b.png",
            "https://img.example.org",
        ),
        ([], "//cdn.example.com/bg.jpg", "https://cdn.example.com"),
        (["'none'"], "https://cdn.example.com/bg.jpg", "https://cdn.example.com"),
    ],
)
def test_an_image_the_policy_blocks_is_reported_by_its_origin(img_src, sources, src, origin):
    img_src(*sources)

    blocked = deck_blocked_images(deck=_deck(src))

    assert [(o.origin, o.slides) for o in blocked.origins] == [(origin, (2,))]


def test_this_sites_own_absolute_urls_count_as_self(img_src):
    deck = _deck("https://courses.example.org/media/figure.png")

    assert not deck_blocked_images(deck=deck, self_origin="https://courses.example.org")
    assert deck_blocked_images(deck=deck)  # the command does not know the site's address


def test_the_fix_names_the_setting_with_the_origins_it_allows_already(img_src):
    img_src("https://i.imgur.com")
    deck = _deck("https://upload.wikimedia.org/a.png", "https://i.imgur.com/b.png")

    blocked = deck_blocked_images(deck=deck)

    assert blocked.setting == "CSP_IMG_ORIGINS=https://i.imgur.com,https://upload.wikimedia.org"
    assert "Images on 1 slide will not show" in blocked.summary
    assert "https://upload.wikimedia.org (slide 2)" in blocked.summary
    assert "put the images on this site" in blocked.fix


@pytest.mark.django_db
def test_the_import_preview_warns_about_blocked_images_and_says_how_to_fix_it(
    client, instructor, img_src
):
    client.force_login(instructor)
    upload = SimpleUploadedFile("session-12.md", SEED_DECK.read_bytes(), "text/markdown")

    response = client.post(reverse("deck-import", args=["ICTSS00120"]), {"deck_file": upload})

    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="deck-blocked-images"' in html
    assert "will not show: this site&#x27;s Content-Security-Policy" in html
    for origin in SEED_IMAGE_ORIGINS:
        assert origin in html
    assert "<code>CSP_IMG_ORIGINS=https://images-wixmp" in html


@pytest.mark.django_db
def test_the_import_preview_says_nothing_when_the_images_are_allowed(client, instructor, img_src):
    img_src(*SEED_IMAGE_ORIGINS)
    client.force_login(instructor)
    upload = SimpleUploadedFile("session-12.md", SEED_DECK.read_bytes(), "text/markdown")

    response = client.post(reverse("deck-import", args=["ICTSS00120"]), {"deck_file": upload})

    assert response.status_code == 200
    assert 'id="deck-blocked-images"' not in response.content.decode()


@pytest.mark.django_db
def test_import_deck_prints_the_same_warning_after_its_summary(course, img_src):
    out, err = StringIO(), StringIO()

    call_command(
        "import_deck",
        str(SEED_DECK),
        "--course",
        course.code,
        stdout=out,
        stderr=err,
        no_color=True,
    )

    blocked = deck_blocked_images(deck=parse_deck(SEED_DECK.read_text()))
    assert out.getvalue().startswith("Imported ")
    assert err.getvalue() == f"Warning: {blocked.summary} {blocked.fix}\n"


def test_a_slide_with_images_from_two_blocked_sites_is_counted_once(img_src):
    deck = parse_deck(
        "---\nmarp: true\n---\n## Session 4: Images\n\n"
        "![a](https://a.example.org/1.png) ![b](https://b.example.org/2.png)\n"
    )

    blocked = deck_blocked_images(deck=deck)

    assert [(o.origin, o.slides) for o in blocked.origins] == [
        ("https://a.example.org", (1,)),
        ("https://b.example.org", (1,)),
    ]
    assert blocked.summary.startswith("Images on 1 slide will not show")
