"""`courseware.roster.parse_roster`: a class list's bytes in, rows or row errors out."""

from __future__ import annotations

import pytest

from courseware.models import Membership
from courseware.roster import (
    MAX_BYTES,
    ROLE_ALIASES,
    RosterError,
    RosterRow,
    RowError,
    parse_roster,
)

EXCEL_SEMICOLON_BOM = (
    "\ufeffE-mail;Given name;Surname;SIS User ID;Role;Group\r\n"
    "ann.lee@example.edu;Ann;Lee;S1001;Learner;Tue lab\r\n"
    "bo.chen@example.edu;Bo;Chen;S1002;;\r\n"
).encode()


def errors_of(data: bytes) -> list[RowError]:
    with pytest.raises(RosterError) as info:
        parse_roster(data)
    return info.value.errors


def test_it_reads_an_excel_semicolon_file_with_a_bom_and_aliased_headers():
    assert parse_roster(EXCEL_SEMICOLON_BOM) == [
        RosterRow(row=2, email="ann.lee@example.edu", first_name="Ann", last_name="Lee",
                  student_id="S1001", role="student", section="Tue lab"),
        RosterRow(row=3, email="bo.chen@example.edu", first_name="Bo", last_name="Chen",
                  student_id="S1002", role="", section=""),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("header", "column"),
    [
        ("Email Address", "email"),
        ("First Name", "first_name"),
        ("Family name", "last_name"),
        ("Last_Name", "last_name"),
        ("Student ID", "student_id"),
        ("ID number", "student_id"),
        ("SECTION", "section"),
    ],
)
def test_it_matches_header_aliases_case_insensitively(header, column):
    first = "Email" if column != "email" else header
    data = f"{first},{header}\na@example.edu,X\n" if column != "email" else f"{header}\nX@e.edu\n"
    (row,) = parse_roster(data.encode())
    expected = "X@e.edu" if column == "email" else "X"
    assert getattr(row, column) == expected


@pytest.mark.parametrize(
    ("cell", "role"),
    [("Teacher", "instructor"), ("TA", "ta"), ("Teaching Assistant", "ta"), ("learner", "student")],
)
def test_it_maps_role_aliases(cell, role):
    (row,) = parse_roster(f"email,role\na@example.edu,{cell}\n".encode())
    assert row.role == role


def test_role_values_are_membership_roles():
    assert set(ROLE_ALIASES.values()) == set(Membership.Role.values)


def test_it_ignores_extra_columns_and_blank_rows():
    rows = parse_roster(b"Notes,email,Campus\nhi,a@example.edu,North\n,,\n\nx,b@example.edu,\n")
    assert [(r.row, r.email) for r in rows] == [(2, "a@example.edu"), (5, "b@example.edu")]


def test_it_reads_comma_files_with_quoted_cells():
    (row,) = parse_roster(b'email,last_name\na@example.edu,"Smith, Jr"\n')
    assert row.last_name == "Smith, Jr"


def test_it_requires_an_email_column_and_names_the_headers_it_found():
    (error,) = errors_of(b"name,number\nAnn,1\n")
    assert (error.row, error.column) == (1, "email")
    assert "“name”, “number”" in error.message


def test_it_names_each_bad_row_and_column():
    data = (
        b"email,role,student_id\n"
        b"not-an-email,student,S1\n"
        b"b@example.edu,wizard,S2\n"
        b",student,S3\n"
        b"B@Example.edu,student,S4\n"
        b"e@example.edu,student,S1\n"
    )
    assert [(e.row, e.column) for e in errors_of(data)] == [
        (2, "email"),
        (3, "role"),
        (4, "email"),
        (5, "email"),
        (6, "student_id"),
    ]
    messages = [e.message for e in errors_of(data)]
    assert "“wizard”" in messages[1]
    assert "row 3" in messages[3]  # the duplicate names the first occurrence
    assert "row 2" in messages[4]


def test_a_non_utf8_file_names_the_byte_and_says_save_as_csv_utf8():
    (error,) = errors_of("email,last_name\na@example.edu,Müller\n".encode("cp1252"))
    assert error.row == 2
    assert "byte 31" in error.message  # 0-based: the ü of Müller
    assert "CSV UTF-8" in error.message


def test_it_refuses_a_file_over_the_size_limit():
    (error,) = errors_of(b"email\n" + b"a@example.edu\n" * (MAX_BYTES // 14 + 1))
    assert "limit" in error.message


def test_it_refuses_an_empty_file_and_a_header_alone():
    assert "empty" in errors_of(b"")[0].message
    assert "nobody" in errors_of(b"email\n")[0].message
