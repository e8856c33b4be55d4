"""`manage.py import_quiz PATH --course CODE [--session N] [--format gift|aiken]
[--category PATH] [--json]`: import a question file into a course's question bank."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.actors import SYSTEM
from core.exceptions import ApplicationError, NotFoundError
from courseware.models import Session
from courseware.selectors import course_find
from quizzes.parsing import FORMATS
from quizzes.services import question_bank_import


class Command(BaseCommand):
    help = (
        "Import GIFT or Aiken questions into a course's question bank. The whole file is "
        "checked first: any error names its line and nothing is imported."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", help="The question file (UTF-8).")
        parser.add_argument("--course", required=True, help="Course code, e.g. ICTSS00120.")
        parser.add_argument("--term", help="The offering's term, e.g. '2027 S1'.")
        parser.add_argument(
            "--session",
            type=int,
            help="Session number: questions default to category 'Session N' and tags LO1, "
            "LO2... link that session's objectives.",
        )
        parser.add_argument("--format", choices=FORMATS, default="gift")
        parser.add_argument("--category", help="Category path for questions without $CATEGORY.")
        parser.add_argument(
            "--json", action="store_true", help='Print {"imported": N, "by_type": {...}}.'
        )

    def handle(self, *args, path: str, course: str, **options) -> None:
        source = _read(Path(path))
        try:
            target = course_find(code=course, term=options.get("term"))
        except NotFoundError as exc:
            raise CommandError(f"Course {course} does not exist.") from exc
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        session = None
        if options["session"] is not None:
            session = Session.objects.filter(course=target, number=options["session"]).first()
            if session is None:
                raise CommandError(f"{target.code} has no session {options['session']}.")
        try:
            result = question_bank_import(
                actor=SYSTEM,
                course=target,
                source=source,
                format=options["format"],
                session=session,
                category_path=options["category"],
            )
        except ApplicationError as exc:
            raise CommandError(f"{path}: {exc.message}") from exc
        if options["json"]:
            self.stdout.write(json.dumps(result.as_dict()))
            return
        kinds = ", ".join(f"{n} {kind}" for kind, n in result.by_type.items())
        self.stdout.write(
            f"Imported {len(result.questions)} questions into {target.code} "
            f"({result.created} new, {result.updated} updated): {kinds}."
        )


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise CommandError(f"Question file not found: {path}") from exc
    except IsADirectoryError as exc:
        raise CommandError(f"{path} is a directory: pass the question file.") from exc
    except UnicodeDecodeError as exc:
        raise CommandError(f"{path} is not UTF-8 text (byte {exc.start}).") from exc
    except OSError as exc:
        raise CommandError(f"Cannot read {path}: {exc.strerror}") from exc
