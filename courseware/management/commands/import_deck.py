"""`manage.py import_deck PATH --course CODE [--create-course]`: import a Marp deck as a
session of a course, or update the session in place if it was imported before."""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from core.actors import SYSTEM
from core.exceptions import ApplicationError, NotFoundError
from courseware.deck_images import deck_blocked_images
from courseware.decks import DeckError, parse_deck
from courseware.models import Course
from courseware.selectors import course_find
from courseware.services import course_create, session_import_deck


class Command(BaseCommand):
    help = (
        "Import a Marp markdown deck as a session of a course. Re-importing the same session "
        "number updates it in place and keeps students' homework completions."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", help="The deck, a Marp markdown file (UTF-8).")
        parser.add_argument("--course", required=True, help="Course code, e.g. ICTSS00120.")
        parser.add_argument("--term", help="The offering's term, e.g. '2027 S1'.")
        parser.add_argument(
            "--create-course",
            action="store_true",
            help="Create the course if it does not exist, titled from the deck's lead slide.",
        )

    def handle(
        self, *args, path: str, course: str, create_course: bool, term: str | None, **options
    ) -> None:
        deck_path = Path(path)
        source = _read_deck(deck_path)
        try:
            # Parsed here first so a broken deck fails before a course is created.
            deck = parse_deck(source)
            with transaction.atomic():
                target = _course(
                    course.strip(), term=term, create=create_course, title=deck.course_title
                )
                result = session_import_deck(
                    actor=SYSTEM, course=target, source=source, filename=deck_path.name
                )
        except DeckError as exc:
            raise CommandError(f"{deck_path}: {exc.message}") from exc
        except ValidationError as exc:
            raise CommandError(f"{deck_path}: {' '.join(exc.messages)}") from exc
        self.stdout.write(result.summary)
        blocked = deck_blocked_images(deck=deck)
        if blocked:
            self.stderr.write(self.style.WARNING(f"Warning: {blocked.summary} {blocked.fix}"))


def _read_deck(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise CommandError(f"Deck file not found: {path}") from exc
    except IsADirectoryError as exc:
        raise CommandError(f"{path} is a directory: pass the deck's .md file.") from exc
    except UnicodeDecodeError as exc:
        raise CommandError(
            f"{path} is not UTF-8 text (byte {exc.start}): save the deck as UTF-8 markdown."
        ) from exc
    except OSError as exc:
        raise CommandError(f"Cannot read {path}: {exc.strerror}") from exc


def _course(code: str, *, term: str | None, create: bool, title: str | None) -> Course:
    try:
        return course_find(code=code, term=term)
    except NotFoundError as exc:
        if not create:
            offering = f"{code} in term {term!r}" if term else code
            raise CommandError(
                f"Course {offering} does not exist: create it in the admin or pass --create-course"
            ) from exc
    except ApplicationError as exc:
        raise CommandError(exc.message) from exc
    return course_create(actor=SYSTEM, code=code, term=term or "", title=title or code)
