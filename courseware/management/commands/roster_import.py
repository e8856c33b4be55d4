"""`manage.py roster_import PATH --course CODE [--term TERM] [--dry-run] [--json]`: enrol a
class list (CSV) in a course, inviting new accounts by email."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.actors import SYSTEM
from core.exceptions import ApplicationError
from courseware.roster import RowError
from courseware.selectors import course_find
from courseware.services import roster as roster_services

EXIT_INVALID = 2


class Command(BaseCommand):
    help = (
        "Import a roster CSV (email, first_name, last_name, student_id, role, section) into a "
        "course. Nothing is written if any row has an error (exit status 2); re-importing the "
        "same file changes nothing."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", help="The roster, a CSV file (UTF-8, comma or semicolon).")
        parser.add_argument("--course", required=True, help="Course code, e.g. ICTSS00120.")
        parser.add_argument("--term", help="The offering's term, e.g. '2027 S1'.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Check the file and report; write nothing."
        )
        parser.add_argument(
            "--json",
            action="store_true",
            dest="as_json",
            help='Print {"created", "updated", "unchanged", "invited"}, or {"rows": [...]} errors.',
        )

    def handle(
        self,
        *args,
        path: str,
        course: str,
        term: str | None,
        dry_run: bool,
        as_json: bool,
        **options,
    ) -> None:
        data = _read(Path(path))
        try:
            target = course_find(code=course, term=term)
            if dry_run:
                result = roster_services.roster_dry_run(actor=SYSTEM, course=target, data=data)
            else:
                result = roster_services.roster_import(actor=SYSTEM, course=target, data=data)
        except roster_services.RosterInvalid as exc:
            self._fail(exc.message, exc.errors, as_json=as_json)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        if as_json:
            self.stdout.write(_dumps(result.as_dict()))
        elif dry_run:
            self.stdout.write(
                f"Dry run, nothing written: {result.created} to add, {result.updated} to "
                f"update, {result.unchanged} unchanged, {result.invited} to invite."
            )
        else:
            self.stdout.write(result.summary)

    def _fail(self, message: str, errors: list[RowError], *, as_json: bool) -> None:
        if as_json:
            rows = [{"row": e.row, "column": e.column, "message": e.message} for e in errors]
            self.stdout.write(_dumps({"code": "roster_invalid", "message": message, "rows": rows}))
        else:
            for error in errors:
                self.stderr.write(str(error))
        # manage.py prints the message to stderr and exits with status 2.
        raise CommandError(message, returncode=EXIT_INVALID)


def _dumps(value: dict) -> str:
    return json.dumps(value, ensure_ascii=False)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise CommandError(f"Roster file not found: {path}") from exc
    except IsADirectoryError as exc:
        raise CommandError(f"{path} is a directory: pass the roster's .csv file.") from exc
    except OSError as exc:
        raise CommandError(f"Cannot read {path}: {exc.strerror}") from exc
