"""Lab portal pages: the role matrix for every page, the lab page and uploads, the live status
fragment and what it reveals, the leaderboard switch at the deadline, the instructor forms
(lab, held-out dataset), the CSV export, and that no page ever shows the held-out data."""

from __future__ import annotations

import csv
import html as html_lib
import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.services import profile_update
from courseware.models import Membership
from labs import views
from labs.models import HeldOutDataset, Lab, Submission
from tests.factories import LabFactory, MembershipFactory, SubmissionFactory
from tests.labs.conftest import HELDOUT_SECRET, MODEL_CONFIG, model_zip

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_storage", "task_queue")]

HTMX = {"HTTP_HX_REQUEST": "true"}
ROLES = ["anonymous", "other_student", "student", "teaching_assistant", "instructor"]
PUBLIC, PRIVATE = 0.612345, 0.987654  # distinct, so "0.988" only comes from the private part
PER_CLASS = {
    "negative": {"precision": 0.5, "recall": 0.25, "f1": 0.333, "support": 4},
    "neutral": {"precision": 0.6, "recall": 0.75, "f1": 0.667, "support": 4},
    "positive": {"precision": 0.7, "recall": 1.0, "f1": 0.824, "support": 4},
}
MATRIX = [[1, 2, 1], [0, 3, 1], [0, 0, 4]]


def client_for(request, who: str) -> Client:
    client = Client()
    if who != "anonymous":
        client.force_login(request.getfixturevalue(who))
    return client


def metrics(value: float) -> dict:
    return {
        "n": 12,
        "accuracy": value,
        "macro_f1": value,
        "weighted_f1": value,
        "per_class": PER_CLASS,
        "confusion_matrix": MATRIX,
    }


def scored(lab, student, public: float = PUBLIC, private: float = PRIVATE, **fields) -> Submission:
    now = timezone.now()
    return SubmissionFactory(
        lab=lab,
        student=student,
        status=Submission.Status.SCORED,
        metrics_public=metrics(public),
        metrics_private=metrics(private),
        started_at=now - timedelta(seconds=20),
        finished_at=now,
        **fields,
    )


def close(lab) -> None:
    lab.closes_at = timezone.now() - timedelta(minutes=1)
    lab.save(update_fields=["closes_at"])


def body(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode("utf-8", "replace")
    return response.content.decode("utf-8", "replace")


def enrol(course, username: str, **user):
    fields = {f"user__{name}": value for name, value in user.items()}
    return MembershipFactory(
        course=course, role=Membership.Role.STUDENT, user__username=username, **fields
    ).user


def archive(data: bytes | None = None, name: str = "model.zip") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, model_zip() if data is None else data, "application/zip")


# --- Role matrix ---------------------------------------------------------------------------


@pytest.fixture
def pages(lab, student, session12):
    """page → (url, expected status for anonymous, other_student, student, teaching_assistant,
    instructor)."""
    own = scored(lab, student)
    course = lab.session.course
    return {
        "lab": (reverse("labs:lab-detail", args=[lab.pk]), (302, 404, 200, 200, 200)),
        "my-submissions": (
            reverse("labs:my-submissions", args=[lab.pk]),
            (302, 404, 200, 302, 302),
        ),
        "leaderboard": (reverse("labs:leaderboard", args=[lab.pk]), (302, 404, 200, 200, 200)),
        "submission": (reverse("labs:submission-detail", args=[own.pk]), (302, 404, 200, 200, 200)),
        "card": (reverse("labs:submission-card", args=[own.pk]), (302, 404, 200, 200, 200)),
        "edit": (reverse("labs:lab-edit", args=[lab.pk]), (302, 404, 403, 403, 200)),
        "dataset": (reverse("labs:dataset", args=[lab.pk]), (302, 404, 403, 403, 200)),
        "dashboard": (reverse("labs:dashboard", args=[lab.pk]), (302, 404, 403, 200, 200)),
        "live": (reverse("labs:dashboard-live", args=[lab.pk]), (302, 404, 403, 200, 200)),
        "csv": (reverse("labs:results-csv", args=[lab.pk]), (302, 404, 403, 200, 200)),
        "student": (
            reverse("labs:student-detail", args=[lab.pk, student.pk]),
            (302, 404, 403, 200, 200),
        ),
        "create": (
            reverse("labs:lab-create", args=[course.code, session12.number]),
            (302, 404, 403, 403, 200),
        ),
        "starter": (reverse("labs:starter-download"), (302, 200, 200, 200, 200)),
        "client": (reverse("labs:client-download"), (302, 200, 200, 200, 200)),
    }


PAGE_NAMES = [
    "lab",
    "my-submissions",
    "leaderboard",
    "submission",
    "card",
    "edit",
    "dataset",
    "dashboard",
    "live",
    "csv",
    "student",
    "create",
    "starter",
    "client",
]


@pytest.mark.parametrize("page", PAGE_NAMES)
@pytest.mark.parametrize("who", ROLES)
def test_every_page_answers_each_role_as_expected(request, pages, page, who):
    url, expected = pages[page]

    response = client_for(request, who).get(url)

    assert response.status_code == expected[ROLES.index(who)], (page, who)
    if who == "anonymous":
        assert response["Location"].startswith(reverse("login"))
    if who == "other_student":
        # Not a member: the lab's existence is not revealed, nor its title.
        assert "Sentiment lab" not in body(response)


def test_an_htmx_poll_after_the_session_ended_redirects_to_login(lab, student):
    submission = SubmissionFactory(lab=lab, student=student)
    response = Client().get(reverse("labs:submission-card", args=[submission.pk]), **HTMX)
    assert response.status_code == 401
    assert response["HX-Redirect"].startswith(reverse("login"))


@pytest.mark.parametrize(
    ("name", "who", "expected"),
    [
        ("labs:regrade", "student", 403),
        ("labs:regrade", "other_student", 404),
        ("labs:submission-create", "other_student", 404),
        ("labs:submission-create", "instructor", 403),
        ("labs:submission-create", "teaching_assistant", 403),
    ],
)
def test_post_only_actions_check_roles(request, lab, name, who, expected):
    data = {"archive": archive()} if name == "labs:submission-create" else {}
    response = client_for(request, who).post(reverse(name, args=[lab.pk]), data)
    assert response.status_code == expected
    assert not Submission.objects.exists()


def test_a_student_cannot_see_or_poll_a_classmates_submission(lab, student, course):
    classmate = enrol(course, "classmate")
    theirs = scored(lab, classmate)
    client = Client()
    client.force_login(student)
    for name in ("labs:submission-detail", "labs:submission-card"):
        assert client.get(reverse(name, args=[theirs.pk])).status_code == 404


# --- The lab page ----------------------------------------------------------------------------


def test_the_lab_page_shows_instructions_deadline_quota_and_the_upload_form(lab, student):
    lab.instructions = "Fine-tune **BERT**.\n\n<script>alert(1)</script>\n\n[docs](javascript:x)"
    lab.save()
    SubmissionFactory(lab=lab, student=student)  # one used today
    client = Client()
    client.force_login(student)

    html = body(client.get(reverse("labs:lab-detail", args=[lab.pk])))

    assert "<strong>BERT</strong>" in html
    assert "<script>alert(1)</script>" not in html
    assert 'href="javascript:' not in html
    assert "Time left" in html
    assert re.search(r"<strong>2</strong>\s+submissions left today", html)
    assert "Resets" in html
    assert 'id="upload-form"' in html
    assert f'data-max-bytes="{lab.max_upload_bytes}"' in html
    assert reverse("labs:client-download") in html
    assert reverse("labs:starter-download") in html
    assert "No training data for this lab." in html


def test_the_lab_page_says_why_no_upload_is_possible(lab, student):
    client = Client()
    client.force_login(student)
    url = reverse("labs:lab-detail", args=[lab.pk])
    for _ in range(lab.daily_quota):
        SubmissionFactory(lab=lab, student=student)
    html = body(client.get(url))
    assert 'id="upload-form"' not in html
    assert "You have used your submissions for today" in html

    close(lab)
    html = body(client.get(url))
    assert "This lab closed" in html


def test_instructors_see_dataset_status_and_their_tools_instead_of_the_form(lab, instructor):
    client = Client()
    client.force_login(instructor)
    html = body(client.get(reverse("labs:lab-detail", args=[lab.pk])))
    assert 'id="upload-form"' not in html
    assert "Version 1: 3 rows" in html
    for name in ("labs:dashboard", "labs:lab-edit", "labs:dataset"):
        assert reverse(name, args=[lab.pk]) in html


def test_the_training_csv_is_served_to_members_only(
    lab, student, other_student, tmp_path, monkeypatch
):
    train = tmp_path / "train.csv"
    train.write_text("text,label\nhello there,neutral\n")
    monkeypatch.setattr(views, "training_csv_path", lambda _lab: train)
    url = reverse("labs:training-download", args=[lab.pk])

    client = Client()
    client.force_login(student)
    response = client.get(url)
    assert response.status_code == 200
    assert body(response) == "text,label\nhello there,neutral\n"
    assert "attachment" in response["Content-Disposition"]
    assert reverse("labs:training-download", args=[lab.pk]) in body(
        client.get(reverse("labs:lab-detail", args=[lab.pk]))
    )

    outsider = Client()
    outsider.force_login(other_student)
    assert outsider.get(url).status_code == 404
    assert Client().get(url).status_code == 302


def test_without_training_data_the_download_is_404(lab, student):
    client = Client()
    client.force_login(student)
    response = client.get(reverse("labs:training-download", args=[lab.pk]))
    assert response.status_code == 404
    assert HELDOUT_SECRET not in body(response)


def test_the_session_page_lists_the_labs(lab, student, instructor, course, session12):
    url = reverse("session-detail", args=[course.code, session12.number])
    client = Client()
    client.force_login(student)
    html = body(client.get(url))
    assert reverse("labs:lab-detail", args=[lab.pk]) in html
    assert "3 left today" in html
    client.force_login(instructor)
    html = body(client.get(url))
    assert reverse("labs:dashboard", args=[lab.pk]) in html
    assert reverse("labs:lab-create", args=[course.code, session12.number]) in html


# --- Uploads -------------------------------------------------------------------------------------


def upload(client, lab, data=None, name="model.zip", **headers):
    return client.post(
        reverse("labs:submission-create", args=[lab.pk]),
        {"archive": archive(data, name)},
        **headers,
    )


def test_an_upload_with_js_answers_the_new_card_polling_and_the_quota(
    lab, student, task_queue, django_capture_on_commit_callbacks
):
    client = Client()
    client.force_login(student)

    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, lab, **HTMX)

    assert response.status_code == 201
    submission = Submission.objects.get()
    html = body(response)
    assert f'id="submission-{submission.pk}"' in html
    assert 'hx-trigger="every 2s"' in html
    assert "position 1" in html
    assert 'id="quota-box" class="quota-box" hx-swap-oob="true"' in html
    assert re.search(r"<strong>2</strong>\s+submissions left today", html)
    assert task_queue == [("labs.tasks.grade_submission", submission.pk)]


def test_an_upload_without_js_redirects_to_the_lab_page(lab, student):
    client = Client()
    client.force_login(student)
    response = upload(client, lab)
    submission = Submission.objects.get()
    assert response.status_code == 302
    assert response["Location"].endswith(f"#submission-{submission.pk}")
    html = body(client.get(response["Location"]))
    assert f"submission {submission.pk} is queued" in html


def test_a_garbage_file_is_rejected_with_the_invalid_archive_message(lab, student):
    client = Client()
    client.force_login(student)

    response = upload(client, lab, data=b"this is not a zip", **HTMX)
    assert response.status_code == 400
    assert 'data-code="invalid_archive"' in body(response)
    assert "not a .zip or .tar.gz archive" in body(response)

    response = upload(client, lab, data=b"this is not a zip")
    assert response.status_code == 400
    assert "not a .zip or .tar.gz archive" in body(response)
    assert 'id="upload-form"' in body(response)  # the page again, with the form
    assert not Submission.objects.exists()


def test_a_label_mismatch_is_refused_at_the_door_and_not_charged(lab, student):
    client = Client()
    client.force_login(student)
    bad = MODEL_CONFIG.replace(b'"positive"', b'"pos"')

    response = upload(client, lab, data=model_zip(**{"config.json": bad}), **HTMX)

    assert response.status_code == 400
    html = body(response)
    assert 'data-code="label_mismatch"' in html
    assert "Missing lab labels: positive." in html
    assert not Submission.objects.exists()
    page = body(client.get(reverse("labs:lab-detail", args=[lab.pk])))
    assert re.search(rf"<strong>{lab.daily_quota}</strong>\s+submissions left today", page)


def test_an_empty_file_and_a_missing_file_are_explained(lab, student):
    client = Client()
    client.force_login(student)
    assert "The uploaded file is empty" in body(upload(client, lab, data=b"", **HTMX))
    response = client.post(reverse("labs:submission-create", args=[lab.pk]), {}, **HTMX)
    assert response.status_code == 400
    assert "Choose the .zip" in body(response)


def test_an_upload_over_the_labs_limit_is_too_large(lab, student):
    lab.max_upload_bytes = 100
    lab.save()
    client = Client()
    client.force_login(student)
    response = upload(client, lab, data=model_zip(big=b"x" * 500), **HTMX)
    assert response.status_code == 413
    assert 'data-code="too_large"' in body(response)


def test_the_quota_refusal_says_when_it_resets(lab, student):
    for _ in range(lab.daily_quota):
        SubmissionFactory(lab=lab, student=student)
    client = Client()
    client.force_login(student)

    response = upload(client, lab, **HTMX)

    assert response.status_code == 429
    html = body(response)
    assert 'data-code="quota_exceeded"' in html
    assert "0 left until" in html
    assert Submission.objects.count() == lab.daily_quota


def test_a_closed_lab_refuses_uploads(lab, student):
    close(lab)
    client = Client()
    client.force_login(student)
    response = upload(client, lab, **HTMX)
    assert response.status_code == 409
    assert "submissions are no longer taken" in body(response)


# --- The live status fragment ----------------------------------------------------------------


def card(client, submission, **headers):
    return client.get(reverse("labs:submission-card", args=[submission.pk]), **HTMX, **headers)


@pytest.mark.parametrize("status", ["queued", "running"])
def test_the_fragment_polls_while_the_submission_is_unfinished(lab, student, status):
    earlier = SubmissionFactory(lab=lab, queued_at=timezone.now() - timedelta(minutes=1))
    submission = SubmissionFactory(
        lab=lab,
        student=student,
        status=status,
        started_at=timezone.now() if status == "running" else None,
    )
    client = Client()
    client.force_login(student)

    html = body(card(client, submission))

    assert 'hx-trigger="every 2s"' in html
    assert f'hx-get="{reverse("labs:submission-card", args=[submission.pk])}?live=1"' in html
    assert f'data-status="{status}"' in html
    if status == "queued":
        assert "position 2" in html  # behind `earlier`
    assert earlier.pk


@pytest.mark.parametrize("status", ["scored", "failed", "cancelled"])
def test_the_fragment_stops_polling_once_finished(lab, student, status):
    submission = SubmissionFactory(
        lab=lab, student=student, status=status, finished_at=timezone.now()
    )
    client = Client()
    client.force_login(student)
    html = body(card(client, submission))
    assert "hx-trigger" not in html
    assert "hx-get" not in html
    assert f'data-status="{status}"' in html


def test_a_failure_shows_its_code_message_and_how_to_fix_it(lab, student):
    submission = SubmissionFactory(
        lab=lab,
        student=student,
        status="failed",
        error_code="unsafe_weights",
        error_message="`pytorch_model.bin` is a pickle file <b>.",
        finished_at=timezone.now(),
    )
    client = Client()
    client.force_login(student)
    html = body(card(client, submission))
    assert "<code>unsafe_weights</code>" in html
    # Markdown inline code is rendered, everything else stays escaped text.
    assert "<code>pytorch_model.bin</code> is a pickle file &lt;b&gt;." in html
    assert "How to fix:</strong> Save with <code>model.save_pretrained(folder)</code>" in html
    assert "`" not in html
    assert "safe_serialization" not in html  # gone in transformers 5


def test_an_internal_failure_says_it_was_not_charged(lab, student):
    submission = SubmissionFactory(
        lab=lab,
        student=student,
        status="failed",
        error_code="internal",
        error_message="The grader failed on our side.",
        charged=False,
        finished_at=timezone.now(),
    )
    client = Client()
    client.force_login(student)
    assert "Not charged to the quota." in body(card(client, submission))


def test_students_never_see_private_metrics_before_the_deadline(lab, student, instructor):
    submission = scored(lab, student)
    client = Client()
    client.force_login(student)

    for response in (
        card(client, submission),
        client.get(reverse("labs:submission-detail", args=[submission.pk])),
        client.get(reverse("labs:lab-detail", args=[lab.pk])),
        client.get(reverse("labs:my-submissions", args=[lab.pk])),
        client.get(reverse("labs:leaderboard", args=[lab.pk])),
    ):
        html = body(response)
        assert "0.612" in html or "leaderboard" in response.request["PATH_INFO"]
        assert "0.988" not in html
        assert 'data-part="private"' not in html or "leaderboard" in response.request["PATH_INFO"]
    assert "revealed when the lab closes" in body(card(client, submission))

    # Instructors see both parts, marked as hidden from students.
    client.force_login(instructor)
    html = body(card(client, submission))
    assert "0.612" in html and "0.988" in html
    assert "Hidden from students until the lab closes." in html


def test_after_the_deadline_students_see_the_private_part_first(lab, student):
    submission = scored(lab, student)
    close(lab)
    client = Client()
    client.force_login(student)

    html = body(card(client, submission, QUERY_STRING="live=1"))

    assert "0.988" in html and "0.612" in html
    assert html.index('data-part="private"') < html.index('data-part="public"')
    assert "Private part (final)" in html
    assert "revealed when the lab closes" not in html


def test_a_scored_card_shows_per_class_scores_and_the_confusion_heatmap(lab, student):
    submission = scored(lab, student)
    client = Client()
    client.force_login(student)

    html = body(card(client, submission, QUERY_STRING="live=1"))

    assert '<details class="sub-details" open>' in html  # just finished while watching
    assert 'class="cm"' in html
    cells = re.findall(r'class="cm-cell([^"]*)"[^>]*style="--v: ([0-9.]+)"[^>]*>(\d+)<', html)
    assert [int(c[2]) for c in cells] == [v for row in MATRIX for v in row]
    assert cells[0][0].strip().startswith("is-right")  # the diagonal
    assert cells[1][1] == "0.500"  # 2 of the 4 negatives predicted neutral
    assert cells[8][0] == " is-right is-dark"  # all 4 positives right
    for label in ("negative", "neutral", "positive"):
        assert f'<th scope="row" class="text-left">{label}</th>' in html
    # A card that was not being watched keeps the details closed.
    assert '<details class="sub-details">' in body(card(client, submission))


def test_metrics_without_detail_still_render(lab, student):
    submission = SubmissionFactory(
        lab=lab,
        student=student,
        status="scored",
        metrics_public={"accuracy": 0.5, "macro_f1": 0.4},
        metrics_private=None,
        finished_at=timezone.now(),
    )
    client = Client()
    client.force_login(student)
    html = body(card(client, submission))
    assert "0.400" in html
    assert "No per-class detail" in html


# --- Leaderboard --------------------------------------------------------------------------------


def test_the_leaderboard_is_public_until_the_deadline_then_private_with_the_shake_up(
    lab, student, instructor, course
):
    ada = enrol(course, "ada", first_name="Ada", last_name="Lovelace")
    profile_update(actor=ada, user=ada, preferred_name="", display_name="Countess")
    scored(lab, ada, public=0.70, private=0.95)
    scored(lab, student, public=0.90, private=0.10)
    client = Client()
    client.force_login(student)
    url = reverse("labs:leaderboard", args=[lab.pk])

    html = body(client.get(url))
    assert 'data-part="public"' in html
    table = html[html.index('id="leaderboard"') :]
    assert table.index(student.first_name) < table.index("Countess")
    assert "Lovelace" not in html  # the display name Ada chose, never her full name
    assert "0.900" in html and "0.700" in html
    assert "0.950" not in html and "0.100" not in html
    assert "Shake-up" not in html
    assert client.get(url, {"part": "private"}).status_code == 403

    # Instructors may preview the private ranking.
    instructor_client = Client()
    instructor_client.force_login(instructor)
    preview = body(instructor_client.get(url, {"part": "private"}))
    assert "Preview for instructors" in preview
    assert "0.950" in preview

    close(lab)
    html = body(client.get(url))
    assert 'data-part="private"' in html
    assert "Final ranking" in html
    table = html[html.index('id="leaderboard"') :]
    assert table.index("Countess") < table.index(student.first_name)
    assert "0.950" in html and "0.100" in html
    assert "▲ 1" in html and "▼ 1" in html
    assert 'class="is-me top-2"' in html


def test_the_leaderboard_uses_pseudonyms_when_the_lab_asks(lab, student, course):
    lab.leaderboard_pseudonyms = True
    lab.save()
    scored(lab, student)
    client = Client()
    client.force_login(student)
    html = body(client.get(reverse("labs:leaderboard", args=[lab.pk])))
    table = html[html.index('id="leaderboard"') : html.index("</table>")]
    assert student.first_name not in table
    assert re.search(r"Student [0-9A-F]{4}", table)
    assert "You" in table


# --- Instructors: lab form, dataset upload, CSV, re-grade, cancel --------------------------------


def lab_form(**changes) -> dict:
    data = {
        "title": "Emotion lab",
        "instructions": "Train *something*.",
        "labels": "sad, happy , angry",
        "primary_metric": "accuracy",
        "opens_at": "2030-01-01T09:00",
        "closes_at": "2030-01-15T17:00",
        "daily_quota": "4",
        "total_quota": "",
        "public_fraction": "0.4",
        "max_upload_mb": "200",
        "grading_timeout_s": "120",
        "grading_memory_mb": "2048",
        "leaderboard_pseudonyms": "on",
    }
    data.update(changes)
    return data


def test_an_instructor_creates_a_lab(instructor, course, session12):
    client = Client()
    client.force_login(instructor)
    response = client.post(
        reverse("labs:lab-create", args=[course.code, session12.number]), lab_form()
    )
    lab = Lab.objects.get(title="Emotion lab")
    assert response.status_code == 302
    assert response["Location"] == reverse("labs:dataset", args=[lab.pk])
    assert lab.labels == ["sad", "happy", "angry"]
    assert lab.session == session12
    assert lab.max_upload_bytes == 200 * 1024 * 1024
    assert lab.grading_memory_bytes == 2048 * 1024 * 1024
    assert lab.leaderboard_pseudonyms is True
    assert lab.total_quota is None
    assert lab.closes_at.isoformat().startswith("2030-01-15T17:00")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"labels": "only-one"}, "at least two labels"),
        ({"labels": "a, A"}, "unique"),
        ({"closes_at": "2029-12-01T09:00"}, "must close after it opens"),
        ({"public_fraction": "0.99"}, "less than or equal to 0.95"),
        ({"title": ""}, "This field is required"),
    ],
)
def test_the_lab_form_explains_invalid_input(instructor, course, session12, changes, message):
    client = Client()
    client.force_login(instructor)
    response = client.post(
        reverse("labs:lab-create", args=[course.code, session12.number]), lab_form(**changes)
    )
    assert response.status_code == 400
    assert message in body(response)
    assert not Lab.objects.filter(title="Emotion lab").exists()


def test_an_instructor_edits_a_lab_but_cannot_change_labels_after_a_dataset(lab, instructor):
    client = Client()
    client.force_login(instructor)
    url = reverse("labs:lab-edit", args=[lab.pk])
    assert "negative, neutral, positive" in body(client.get(url))

    response = client.post(url, lab_form(labels="negative, neutral, positive", title="Renamed"))
    assert response.status_code == 302
    lab.refresh_from_db()
    assert lab.title == "Renamed" and lab.daily_quota == 4

    response = client.post(url, lab_form(labels="bad, good"))
    assert response.status_code == 400
    assert "cannot change once a held-out dataset" in body(response)
    lab.refresh_from_db()
    assert lab.labels == ["negative", "neutral", "positive"]


def test_a_student_cannot_edit_a_lab(lab, student):
    client = Client()
    client.force_login(student)
    response = client.post(reverse("labs:lab-edit", args=[lab.pk]), lab_form(title="Hacked"))
    assert response.status_code == 403
    lab.refresh_from_db()
    assert lab.title == "Sentiment lab"


def dataset_file(text: str, name: str = "heldout.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), "text/csv")


def test_a_new_held_out_version_is_validated_stored_and_can_trigger_a_regrade(
    lab, instructor, student, task_queue, django_capture_on_commit_callbacks
):
    done = scored(lab, student)
    client = Client()
    client.force_login(instructor)
    csv_text = "text,label\ngood film,positive\nbad film,negative\nok film,neutral\nfine,neutral\n"

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("labs:dataset", args=[lab.pk]),
            {"dataset": dataset_file(csv_text), "regrade": "on"},
        )

    assert response.status_code == 302
    latest = HeldOutDataset.objects.filter(lab=lab).order_by("-version").first()
    assert latest.version == 2 and latest.row_count == 4
    assert task_queue == [("labs.tasks.regrade_submission", done.pk)]
    html = body(client.get(response["Location"]))
    assert "Uploaded held-out set version 2: 4 rows. Re-grading 1 scored submission." in html
    assert "good film" not in html


@pytest.mark.parametrize(
    ("text", "name", "message", "rows"),
    [
        (
            "text,label\nhi,negative\n,neutral\n ,positive\n",
            "h.csv",
            "empty text in 2 rows",
            ["3", "4"],
        ),
        ("text\nhello\n", "h.csv", "missing column 'label'", []),
        ("text,label\na,negative\n", "h.txt", "Unsupported held-out file type", []),
    ],
)
def test_dataset_errors_are_shown_with_the_rows_to_fix(lab, instructor, text, name, message, rows):
    client = Client()
    client.force_login(instructor)

    response = client.post(
        reverse("labs:dataset", args=[lab.pk]), {"dataset": dataset_file(text, name)}
    )

    assert response.status_code == 400
    html = body(response)
    assert message in html_lib.unescape(html)
    assert re.findall(r'<span class="row-chip">(\d+)</span>', html) == rows
    assert HeldOutDataset.objects.filter(lab=lab).count() == 1


def test_the_results_csv_has_one_row_per_submission(lab, student, instructor, course):
    tricky = enrol(course, "=cmd", first_name="=HYPERLINK(1)")
    first = scored(lab, student, timings={"total_s": 4.5, "queue_wait_s": 1.0}, worker_host="w1")
    failed = SubmissionFactory(
        lab=lab, student=tricky, status="failed", error_code="timeout", finished_at=timezone.now()
    )
    client = Client()
    client.force_login(instructor)

    response = client.get(reverse("labs:results-csv", args=[lab.pk]))

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert f"lab-{lab.pk}-results.csv" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(body(response))))
    assert [int(r["submission_id"]) for r in rows] == [first.pk, failed.pk]
    assert rows[0]["username"] == student.username
    assert rows[0]["status"] == "scored"
    assert float(rows[0]["public_macro_f1"]) == pytest.approx(PUBLIC)
    assert float(rows[0]["private_macro_f1"]) == pytest.approx(PRIVATE)
    assert rows[0]["total_s"] == "4.5" and rows[0]["worker_host"] == "w1"
    assert float(rows[0]["grading_s"]) == pytest.approx(20, abs=1)
    assert rows[0]["created_at"] and rows[0]["finished_at"]
    assert rows[1]["error_code"] == "timeout"
    assert rows[1]["public_macro_f1"] == ""
    assert rows[1]["username"] == "'=cmd"
    assert rows[1]["student_name"].startswith("'=HYPERLINK")
    assert first.artifact.name not in body(response)


def test_regrade_and_cancel_buttons(
    lab, student, instructor, task_queue, django_capture_on_commit_callbacks
):
    done = scored(lab, student)
    waiting = SubmissionFactory(lab=lab, student=student)
    client = Client()
    client.force_login(instructor)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("labs:regrade", args=[lab.pk]), follow=True)
    assert "Re-grading 1 scored submission" in body(response)
    assert ("labs.tasks.regrade_submission", done.pk) in task_queue

    response = client.post(reverse("labs:submission-cancel", args=[waiting.pk]), follow=True)
    assert f"Cancelled submission {waiting.pk}." in body(response)
    waiting.refresh_from_db()
    assert waiting.status == "cancelled" and not waiting.charged

    response = client.post(reverse("labs:submission-cancel", args=[done.pk]), follow=True)
    assert "only queued or running submissions can be cancelled" in body(response)

    student_client = Client()
    student_client.force_login(student)
    other = SubmissionFactory(lab=lab, student=student)
    assert (
        student_client.post(reverse("labs:submission-cancel", args=[other.pk])).status_code == 403
    )


# --- The held-out data never leaks ------------------------------------------------------------


def test_no_lab_page_ever_contains_the_held_out_data(lab, student, instructor, course, session12):
    submission = scored(lab, student, dataset=lab.datasets.get())
    failed = SubmissionFactory(
        lab=lab,
        student=student,
        status="failed",
        error_code="load_failed",
        finished_at=timezone.now(),
    )
    dataset = lab.datasets.get()
    secrets = [HELDOUT_SECRET, "SECRET-HELDOUT", dataset.file.name, submission.artifact.name]
    gets = [
        reverse("labs:lab-detail", args=[lab.pk]),
        reverse("labs:my-submissions", args=[lab.pk]),
        reverse("labs:leaderboard", args=[lab.pk]),
        reverse("labs:leaderboard", args=[lab.pk]) + "?part=private",
        reverse("labs:submission-detail", args=[submission.pk]),
        reverse("labs:submission-card", args=[submission.pk]),
        reverse("labs:submission-card", args=[failed.pk]),
        reverse("labs:training-download", args=[lab.pk]),
        reverse("labs:lab-edit", args=[lab.pk]),
        reverse("labs:dataset", args=[lab.pk]),
        reverse("labs:dashboard", args=[lab.pk]),
        reverse("labs:dashboard-live", args=[lab.pk]),
        reverse("labs:results-csv", args=[lab.pk]),
        reverse("labs:student-detail", args=[lab.pk, student.pk]),
        reverse("labs:lab-create", args=[course.code, session12.number]),
        reverse("labs:starter-download"),
        reverse("labs:client-download"),
        reverse("session-detail", args=[course.code, session12.number]),
    ]
    checked = 0
    for user in (student, instructor):
        client = Client(raise_request_exception=False)
        client.force_login(user)
        responses = [client.get(url) for url in gets]
        responses.append(upload(client, lab, data=b"garbage", **HTMX))
        responses.append(
            client.post(
                reverse("labs:dataset", args=[lab.pk]),
                {"dataset": dataset_file("text,label\nx,negative\n")},
            )
        )
        for response in responses:
            text = body(response)
            for secret in secrets:
                assert secret not in text, (response.request["PATH_INFO"], secret)
            checked += 1
    assert checked == 2 * (len(gets) + 2)


def test_no_lab_page_links_to_private_storage(lab, student, instructor):
    other_lab = LabFactory(session=lab.session)
    client = Client()
    client.force_login(instructor)
    for url in (
        reverse("labs:lab-detail", args=[lab.pk]),
        reverse("labs:dataset", args=[lab.pk]),
        reverse("labs:dashboard", args=[other_lab.pk]),
    ):
        html = body(client.get(url))
        assert "/private/" not in html and "heldout/" not in html


def test_the_label_rule_is_stated_once_the_same_on_the_page_the_fix_and_the_error(
    lab, student, tmp_path
):
    from labs.grading.artifact import LABEL_RULE, validate_model_dir
    from labs.grading.errors import GradingError
    from tests.labs.grading.hostile import write_model_dir

    with pytest.raises(GradingError) as info:
        validate_model_dir(
            write_model_dir(tmp_path / "m", labels=["a", "b", "c"]), lab_labels=lab.labels
        )
    submission = SubmissionFactory(
        lab=lab,
        student=student,
        status="failed",
        error_code="label_mismatch",
        error_message=info.value.message,
        finished_at=timezone.now(),
    )
    client = Client()
    client.force_login(student)
    page = html_lib.unescape(body(client.get(reverse("labs:lab-detail", args=[lab.pk]))))
    fix = html_lib.unescape(body(card(client, submission)))

    assert "any order" in LABEL_RULE
    assert LABEL_RULE in info.value.message
    assert f"<strong>How to fix:</strong> {LABEL_RULE}" in fix
    assert f'<p class="hint" data-label-rule>{LABEL_RULE}</p>' in page
    assert "in this order" not in page and "in order" not in fix


# --- The submit command: this lab's id and this site's address --------------------------------


def _download(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/x-python")
    return response.content.decode()


def test_the_lab_page_shows_the_exact_submit_command(lab, student):
    client = Client()
    client.force_login(student)
    html = body(client.get(reverse("labs:lab-detail", args=[lab.pk])))
    command = re.search(r"<code data-submit-command>([^<]*)</code>", html)[1]
    assert (
        command
        == f"python coursebench_submit.py my-model --lab {lab.pk} --server http://testserver"
    )
    assert "ADDRESS_OF_THIS_SITE" not in html
    assert f'{reverse("labs:starter-download")}?lab={lab.pk}"' in html


def test_the_downloaded_starter_knows_the_lab_and_the_site(lab, student, tmp_path):
    from labs.demo import _load_script

    client = Client()
    client.force_login(student)
    source = _download(client, f"{reverse('labs:starter-download')}?lab={lab.pk}")
    assert f"DEFAULT_LAB: int | None = {lab.pk}\n" in source
    assert 'DEFAULT_SERVER = "http://testserver"\n' not in source  # a repr, single quotes
    assert "DEFAULT_SERVER = 'http://testserver'\n" in source
    script = tmp_path / "train_sentiment.py"
    script.write_text(source)
    starter = _load_script(script, "downloaded_starter")
    args = starter.parse_args(["--train", "x.csv"])
    command = starter.submit_command(
        Path("my-model"), lab=args.lab, server=args.server, client=None
    )
    assert command[1:] == [
        "coursebench_submit.py",
        "my-model",
        "--lab",
        str(lab.pk),
        "--server",
        "http://testserver",
    ]


def test_the_starter_of_a_lab_in_another_course_is_not_found(lab, other_student):
    client = Client()
    client.force_login(other_student)
    assert client.get(f"{reverse('labs:starter-download')}?lab={lab.pk}").status_code == 404
    assert client.get(f"{reverse('labs:starter-download')}?lab=x").status_code == 404
    assert client.get(reverse("labs:starter-download")).status_code == 200  # the plain copy


def test_the_try_it_placeholder_comes_from_the_labs_own_training_data(
    lab, student, tmp_path, monkeypatch
):
    from labs import demo

    submission = scored(lab, student)
    client = Client()
    client.force_login(student)
    url = reverse("labs:submission-detail", args=[submission.pk])
    assert 'placeholder="A text like the ones this lab classifies"' in body(client.get(url))

    train = tmp_path / "train.csv"
    train.write_text("text,label\nok,neutral\n@airline my bag never arrived,negative\n")
    monkeypatch.setattr(demo, "training_csv_path", lambda _lab: train)
    html = body(client.get(url))
    assert 'placeholder="e.g. @airline my bag never arrived"' in html
    assert "acting was wonderful" not in html
