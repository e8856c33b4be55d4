"""`manage.py roster_import PATH --course CODE [--term TERM] [--dry-run] [--json]`."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from courseware.models import Membership
from tests.courseware.test_roster_import import EXCEL
from tests.factories import CourseFactory


@pytest.fixture
def roster_file(tmp_path):
    path = tmp_path / "class-list.csv"
    path.write_bytes(EXCEL)
    return path


def roster_import(*args: str, capture) -> str:
    out = StringIO()
    with capture(execute=True):
        call_command("roster_import", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def students(course) -> int:
    return Membership.objects.filter(course=course).count()


def test_json_prints_the_counts_and_a_rerun_is_unchanged(
    course, roster_file, django_capture_on_commit_callbacks
):
    args = (str(roster_file), "--course", "ictss00120", "--json")
    first = roster_import(*args, capture=django_capture_on_commit_callbacks)
    second = roster_import(*args, capture=django_capture_on_commit_callbacks)

    assert json.loads(first) == {"created": 2, "updated": 0, "unchanged": 0, "invited": 2}
    assert json.loads(second) == {"created": 0, "updated": 0, "unchanged": 2, "invited": 0}
    assert len(mail.outbox) == 2


def test_it_names_the_offering_with_term(db, roster_file, django_capture_on_commit_callbacks):
    spring = CourseFactory(code="ML101", term="2027 S1")
    CourseFactory(code="ML102", term="2027 S2")
    out = roster_import(
        str(roster_file), "--course", "ML101", "--term", "2027 S1",
        capture=django_capture_on_commit_callbacks,
    )  # fmt: skip

    assert out == "2 added, 0 updated, 0 unchanged; 2 invitations sent.\n"
    assert students(spring) == 2


def test_dry_run_writes_nothing(course, roster_file, django_capture_on_commit_callbacks):
    out = roster_import(
        str(roster_file), "--course", "ICTSS00120", "--dry-run", "--json",
        capture=django_capture_on_commit_callbacks,
    )  # fmt: skip

    assert json.loads(out) == {"created": 2, "updated": 0, "unchanged": 0, "invited": 2}
    assert students(course) == 0
    assert mail.outbox == []


def test_row_errors_print_as_json_and_exit_2(course, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(b"email,role\ngood@example.edu,\nbad-address,student\n")
    out = StringIO()

    with pytest.raises(CommandError) as info:
        call_command("roster_import", str(path), "--course", "ICTSS00120", "--json", stdout=out)

    assert info.value.returncode == 2
    body = json.loads(out.getvalue())
    assert body["code"] == "roster_invalid"
    assert [(r["row"], r["column"]) for r in body["rows"]] == [(3, "email")]
    assert students(course) == 0


def test_row_errors_without_json_go_to_stderr(course, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(b"email,role\ngood@example.edu,wizard\n")
    err = StringIO()

    with pytest.raises(CommandError) as info:
        call_command("roster_import", str(path), "--course", "ICTSS00120", stderr=err)

    assert info.value.returncode == 2
    assert "row 2, column role: Unknown role “wizard”" in err.getvalue()


def test_an_unknown_course_or_missing_file_is_a_plain_error(course, roster_file, tmp_path):
    with pytest.raises(CommandError, match="No course NOPE"):
        call_command("roster_import", str(roster_file), "--course", "NOPE")
    with pytest.raises(CommandError, match="not found"):
        call_command("roster_import", str(tmp_path / "x.csv"), "--course", "ICTSS00120")
