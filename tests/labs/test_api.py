"""The `/api/v1/` labs API: who may call what, uploads and quotas, what results reveal, the
leaderboard, re-grades and cancellation."""

from __future__ import annotations

import io
import itertools
import re
import threading
import zipfile
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django.views.static import serve
from rest_framework.test import APIClient

from accounts.services import profile_update
from courseware import services as courseware_services
from courseware.models import Membership
from labs import selectors
from labs.models import Submission
from tests.factories import MembershipFactory, SubmissionFactory
from tests.labs.conftest import HELDOUT_SECRET, MODEL_CONFIG, model_zip

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_storage")]

ERROR_CODES = {401: "not_authenticated", 403: "permission_denied", 404: "not_found"}
WHO = ("student", "instructor", "other_student", "teaching_assistant")


def url(name: str, **kwargs) -> str:
    return reverse(f"labs_api:{name}", kwargs=kwargs)


def token_client(user) -> APIClient:
    """A client that authenticates the way the student client does: a token header."""
    client = APIClient()
    key = courseware_services.api_token_create(actor=user).key
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code, body
    assert body["message"]
    return body


def upload(client: APIClient, lab, data: bytes | None = None, name: str = "model.zip"):
    data = model_zip() if data is None else data
    return client.post(
        url("lab-submissions", lab_id=lab.pk),
        {"archive": SimpleUploadedFile(name, data, content_type="application/zip")},
        format="multipart",
    )


def scored(lab, student, public: float, private: float, **fields) -> Submission:
    return SubmissionFactory(
        lab=lab,
        student=student,
        status=Submission.Status.SCORED,
        metrics_public={"accuracy": public, "macro_f1": public, "weighted_f1": public},
        metrics_private={"accuracy": private, "macro_f1": private, "weighted_f1": private},
        finished_at=timezone.now(),
        **fields,
    )


def enrol(course, username: str):
    return MembershipFactory(
        course=course, role=Membership.Role.STUDENT, user__username=username
    ).user


def close(lab) -> None:
    lab.closes_at = timezone.now() - timedelta(minutes=1)
    lab.save(update_fields=["closes_at"])


# --- Who may call what ----------------------------------------------------------------------


@pytest.fixture
def own_submission(lab, student):
    return SubmissionFactory(lab=lab, student=student)


@pytest.fixture
def endpoints(lab, own_submission) -> dict[str, tuple[str, str]]:
    """operation id → (method, path) for every labs endpoint."""
    return {
        "labs_retrieve": ("get", url("lab-detail", lab_id=lab.pk)),
        "lab_submissions_list": ("get", url("lab-submissions", lab_id=lab.pk)),
        "lab_submissions_create": ("post", url("lab-submissions", lab_id=lab.pk)),
        "submissions_retrieve": ("get", url("submission-detail", submission_id=own_submission.pk)),
        "submissions_cancel": ("post", url("submission-cancel", submission_id=own_submission.pk)),
        "labs_leaderboard": ("get", url("lab-leaderboard", lab_id=lab.pk)),
        "labs_regrade": ("post", url("lab-regrade", lab_id=lab.pk)),
    }


#: operation id → expected status for (student, instructor, student of another course,
#: teaching assistant).
ACCESS = {
    "labs_retrieve": (200, 200, 404, 200),
    "lab_submissions_list": (200, 200, 404, 200),
    "lab_submissions_create": (202, 403, 404, 403),
    "submissions_retrieve": (200, 200, 404, 200),
    "submissions_cancel": (403, 200, 404, 200),
    "labs_leaderboard": (200, 200, 404, 200),
    "labs_regrade": (403, 202, 404, 202),
}


def call(client, method: str, path: str):
    if method == "post" and path.endswith("/submissions/"):
        return client.post(
            path, {"archive": SimpleUploadedFile("model.zip", model_zip())}, format="multipart"
        )
    return getattr(client, method)(path)


@pytest.mark.parametrize("operation", ACCESS)
def test_anonymous_gets_401_with_a_token_challenge(operation, endpoints):
    method, path = endpoints[operation]

    response = call(APIClient(), method, path)

    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == 'Token realm="api"'


@pytest.mark.parametrize(("operation", "who"), list(itertools.product(ACCESS, WHO)))
def test_each_role_gets_the_expected_status_with_token_auth(operation, who, endpoints, request):
    method, path = endpoints[operation]
    expected = ACCESS[operation][WHO.index(who)]

    response = call(token_client(request.getfixturevalue(who)), method, path)

    if expected >= 400:
        assert_error(response, expected, ERROR_CODES[expected])
    else:
        assert response.status_code == expected, response.content


def test_a_bad_token_is_401_authentication_failed(lab):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    assert_error(client.get(url("lab-detail", lab_id=lab.pk)), 401, "authentication_failed")


def test_session_auth_works_for_reads(lab, student):
    client = APIClient()
    client.force_login(student)

    assert client.get(url("lab-detail", lab_id=lab.pk)).status_code == 200


def test_a_non_member_cannot_tell_a_hidden_lab_from_a_missing_one(lab, other_student):
    client = token_client(other_student)

    hidden = assert_error(client.get(url("lab-detail", lab_id=lab.pk)), 404, "not_found")
    missing = assert_error(client.get(url("lab-detail", lab_id=lab.pk + 999)), 404, "not_found")

    assert hidden["message"] == f"No lab {lab.pk}."
    assert missing["message"] == f"No lab {lab.pk + 999}."


# --- Lab detail -----------------------------------------------------------------------------


def test_a_student_sees_the_lab_with_their_quota(lab, student):
    SubmissionFactory(lab=lab, student=student)

    body = token_client(student).get(url("lab-detail", lab_id=lab.pk)).json()

    assert body["id"] == lab.pk
    assert body["title"] == "Sentiment lab"
    assert (body["course"], body["session"]) == ("ICTSS00120", 12)
    assert body["labels"] == ["negative", "neutral", "positive"]
    assert body["primary_metric"] == "macro_f1"
    assert body["is_open"] is True
    assert body["daily_quota"] == 3
    assert body["quota"]["used_today"] == 1
    assert body["quota"]["left_today"] == 2
    assert body["quota"]["left_total"] is None
    assert body["quota"]["resets_at"].endswith("T00:00:00Z")
    assert body["submissions_url"].endswith(url("lab-submissions", lab_id=lab.pk))


def test_an_instructor_gets_no_quota_and_a_closed_lab_is_not_open(lab, instructor):
    close(lab)

    body = token_client(instructor).get(url("lab-detail", lab_id=lab.pk)).json()

    assert "quota" not in body
    assert body["is_open"] is False


# --- Submitting -----------------------------------------------------------------------------


def test_a_student_uploads_a_zip_and_gets_202_with_a_status_url(
    lab, student, private_storage, django_capture_on_commit_callbacks
):
    data = model_zip()
    client = token_client(student)

    with django_capture_on_commit_callbacks() as callbacks:
        response = upload(client, lab, data)

    assert response.status_code == 202, response.content
    body = response.json()
    submission = Submission.objects.get(pk=body["id"])
    assert (submission.lab, submission.student) == (lab, student)
    assert submission.status == body["status"] == "queued"
    assert (
        body["status_url"]
        == f"http://testserver{url('submission-detail', submission_id=body['id'])}"
    )
    assert body["quota"]["left_today"] == 2
    assert len(callbacks) == 1  # the grading task is sent once the row is committed
    # The archive is stored privately, byte for byte, and has no URL.
    assert submission.artifact.storage is private_storage
    assert private_storage.exists(submission.artifact.name)
    with private_storage.open(submission.artifact.name, "rb") as stored:
        assert stored.read() == data
    with pytest.raises(ValueError, match="no URL"):
        _ = submission.artifact.url
    # The status URL works and shows the queue.
    detail = client.get(body["status_url"]).json()
    assert detail["status"] == "queued"
    assert detail["queue_position"] == 1


def test_a_missing_archive_field_says_to_send_the_zip_as_field_archive(lab, student):
    response = token_client(student).post(
        url("lab-submissions", lab_id=lab.pk), {"model": "x"}, format="multipart"
    )

    body = assert_error(response, 400, "invalid_input")
    assert "multipart/form-data field `archive`" in body["message"]
    assert set(body["fields"]) == {"archive"}
    assert not Submission.objects.exists()


def test_a_json_body_is_415(lab, student):
    response = token_client(student).post(
        url("lab-submissions", lab_id=lab.pk), {"archive": "x"}, format="json"
    )

    assert_error(response, 415, "unsupported_media_type")


def test_garbage_bytes_are_rejected_as_invalid_archive(lab, student):
    response = upload(token_client(student), lab, b"this is not a zip at all", "model.zip")

    body = assert_error(response, 400, "invalid_archive")
    assert "save_pretrained" in body["message"]
    assert not Submission.objects.exists()


def test_an_empty_zip_is_rejected_at_upload_without_using_the_quota(lab, student):
    empty = io.BytesIO()
    zipfile.ZipFile(empty, "w").close()  # only the end-of-directory record

    response = upload(token_client(student), lab, empty.getvalue(), "model.zip")

    body = assert_error(response, 400, "invalid_archive")
    assert "zip archive is empty" in body["message"] and "save_pretrained" in body["message"]
    assert not Submission.objects.exists()


def test_an_archive_over_the_labs_limit_is_413_too_large(lab, student):
    lab.max_upload_bytes = 100
    lab.save(update_fields=["max_upload_bytes"])

    response = upload(token_client(student), lab, model_zip(**{"model.safetensors": b"\1" * 500}))

    assert_error(response, 413, "too_large")
    assert not Submission.objects.exists()


@pytest.mark.parametrize(
    ("extra", "code", "says"),
    [
        (
            {"config.json": MODEL_CONFIG.replace(b'"neutral"', b'"meh"')},
            "label_mismatch",
            "Not lab labels: meh.",
        ),
        ({"tokenizer.json": None}, "missing_files", "the tokenizer"),
        ({"pytorch_model.bin": b"\x80\x04K\x01."}, "unsafe_weights", "`pytorch_model.bin`"),
        (
            {"config.json": MODEL_CONFIG.replace(b'"model_type"', b'"auto_map": {}, "model_type"')},
            "remote_code",
            "config.json: `auto_map`",
        ),
    ],
)
def test_packaging_mistakes_are_refused_at_upload_without_using_the_quota(
    lab, student, extra, code, says
):
    files = {name: data for name, data in extra.items() if data is not None}
    data = model_zip(**files)
    if None in extra.values():
        data = _without(data, [name for name, value in extra.items() if value is None])

    response = upload(token_client(student), lab, data)

    body = assert_error(response, 400, code)
    assert says in body["message"]
    assert not Submission.objects.exists()
    assert (
        token_client(student).get(url("lab-detail", lab_id=lab.pk)).json()["quota"]["left_today"]
        == lab.daily_quota
    )


def _without(data: bytes, names: list[str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            if info.filename not in names:
                dst.writestr(info, src.read(info))
    return out.getvalue()


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"closes_at": -1}, "lab_closed"),
        ({"opens_at": +1}, "lab_not_open"),
        ("no dataset", "no_dataset"),
    ],
)
def test_a_lab_that_takes_no_submissions_now_is_409(lab, student, change, code):
    if change == "no dataset":
        lab.datasets.all().delete()
    else:
        for field, days in change.items():
            setattr(lab, field, timezone.now() + timedelta(days=days))
        if "opens_at" in change:
            lab.closes_at = timezone.now() + timedelta(days=7)
        lab.save()

    assert_error(upload(token_client(student), lab), 409, code)
    assert not Submission.objects.exists()


def test_the_daily_quota_is_429_saying_how_many_are_left_and_when_it_resets(lab, student):
    client = token_client(student)
    for _ in range(lab.daily_quota):
        assert upload(client, lab).status_code == 202

    body = assert_error(upload(client, lab), 429, "quota_exceeded")

    resets_at = selectors.next_quota_reset()
    assert "0 left" in body["message"]
    assert f"{resets_at:%Y-%m-%d %H:%M}" in body["message"]
    assert body["left_today"] == 0
    assert body["resets_at"] == resets_at.isoformat()
    assert Submission.objects.filter(student=student).count() == lab.daily_quota


def test_the_total_quota_is_enforced_across_days(lab, student):
    lab.total_quota = 2
    lab.save(update_fields=["total_quota"])
    old = SubmissionFactory(lab=lab, student=student)
    Submission.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=3))
    client = token_client(student)

    assert upload(client, lab).status_code == 202
    body = assert_error(upload(client, lab), 429, "quota_exceeded")

    assert body["left_total"] == 0


def test_failures_on_our_side_do_not_count_towards_the_quota(lab, student):
    for _ in range(lab.daily_quota):
        SubmissionFactory(
            lab=lab, student=student, status="failed", error_code="internal", charged=False
        )
    client = token_client(student)

    response = upload(client, lab)

    assert response.status_code == 202, response.content
    assert response.json()["quota"]["left_today"] == lab.daily_quota - 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("task_queue")
def test_concurrent_uploads_never_exceed_the_quota(lab, student, task_queue):
    lab.daily_quota = 2
    lab.save(update_fields=["daily_quota"])
    key = courseware_services.api_token_create(actor=student).key
    attempts = 6
    barrier = threading.Barrier(attempts)
    statuses: list[int] = []
    errors: list[BaseException] = []

    def submit() -> None:
        try:
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
            barrier.wait(timeout=10)
            statuses.append(upload(client, lab).status_code)
        except BaseException as exc:  # surfaced below: a thread can't fail the test itself
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not errors, errors
    assert sorted(statuses) == [202, 202] + [429] * (attempts - 2)
    assert Submission.objects.filter(lab=lab, student=student).count() == 2
    assert len(task_queue) == 2  # one grading task per accepted upload, after commit


# --- Reading submissions --------------------------------------------------------------------


def test_a_student_cannot_read_or_list_a_classmates_submissions(lab, student, course):
    classmate = enrol(course, "classmate")
    theirs = SubmissionFactory(lab=lab, student=classmate)
    mine = SubmissionFactory(lab=lab, student=student)
    client = token_client(student)

    assert_error(client.get(url("submission-detail", submission_id=theirs.pk)), 404, "not_found")
    listed = client.get(url("lab-submissions", lab_id=lab.pk)).json()

    assert [s["id"] for s in listed["results"]] == [mine.pk]
    assert "student" not in listed["results"][0]


def test_an_instructor_lists_everyones_submissions_with_usernames(lab, student, instructor, course):
    classmate = enrol(course, "classmate")
    SubmissionFactory(lab=lab, student=classmate)
    SubmissionFactory(lab=lab, student=student)

    listed = token_client(instructor).get(url("lab-submissions", lab_id=lab.pk)).json()

    assert listed["count"] == 2
    assert {s["student"] for s in listed["results"]} == {"classmate", student.username}


def test_the_list_filters_by_status_and_rejects_unknown_statuses(lab, student):
    SubmissionFactory(lab=lab, student=student)
    done = scored(lab, student, 0.5, 0.5)
    client = token_client(student)

    listed = client.get(url("lab-submissions", lab_id=lab.pk), {"status": "scored"}).json()
    bad = client.get(url("lab-submissions", lab_id=lab.pk), {"status": "graded"})

    assert [s["id"] for s in listed["results"]] == [done.pk]
    body = assert_error(bad, 400, "invalid_input")
    assert set(body["fields"]) == {"status"}


PRIVATE = 0.7654321  # the private score no student may see before the lab closes


def _numbers(body) -> list[float]:
    """Every number anywhere in a JSON body."""
    if isinstance(body, dict):
        return [n for value in body.values() for n in _numbers(value)]
    if isinstance(body, list):
        return [n for value in body for n in _numbers(value)]
    return [body] if isinstance(body, int | float) and not isinstance(body, bool) else []


def test_private_metrics_are_hidden_from_students_until_the_lab_closes(lab, student, instructor):
    submission = scored(lab, student, public=0.81, private=PRIVATE)
    path = url("submission-detail", submission_id=submission.pk)

    before = token_client(student).get(path).json()
    listed = token_client(student).get(url("lab-submissions", lab_id=lab.pk)).json()
    teacher = token_client(instructor).get(path).json()
    close(lab)
    after = token_client(student).get(path).json()

    assert before["metrics"]["public"]["macro_f1"] == 0.81
    assert before["metrics"]["private"] is None
    assert listed["results"][0]["metrics"]["private"] is None
    assert PRIVATE not in _numbers(before) and PRIVATE not in _numbers(listed)
    # Seven decimals: a timestamp's six-digit microseconds can never contain this string.
    assert str(PRIVATE) not in str(before) and str(PRIVATE) not in str(listed)
    assert teacher["metrics"]["private"]["macro_f1"] == PRIVATE
    assert after["metrics"]["private"]["macro_f1"] == PRIVATE


def test_the_visibility_rule_lives_in_a_selector(lab, student):
    submission = scored(lab, student, public=0.6, private=0.4)
    after_close = lab.closes_at + timedelta(seconds=1)

    assert selectors.submission_visible_metrics(submission=submission, role="student") == {
        "public": submission.metrics_public,
        "private": None,
    }
    assert (
        selectors.submission_visible_metrics(
            submission=submission, role="student", now=after_close
        )["private"]
        == submission.metrics_private
    )
    assert selectors.submission_visible_metrics(submission=submission, role="instructor")[
        "private"
    ] == (submission.metrics_private)


def test_only_instructors_see_grading_internals(lab, student, instructor):
    submission = SubmissionFactory(
        lab=lab, student=student, status="running", worker_host="grader-7", attempts=1
    )
    path = url("submission-detail", submission_id=submission.pk)

    mine = token_client(student).get(path).json()
    theirs = token_client(instructor).get(path).json()

    internals = {"worker_host", "heartbeat_at", "charged", "student"}
    assert not internals & set(mine)
    assert theirs["worker_host"] == "grader-7"
    assert theirs["student"] == student.username
    assert theirs["charged"] is True
    assert mine["attempts"] == 1
    assert mine["queue_position"] is None  # running, not queued
    assert mine["dataset_version"] is None


# --- Nothing reveals the held-out data or where files are stored ----------------------------


def _routes(patterns=None, prefix: str = ""):
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern


def _fill(route: str, values: dict[str, list[str]]) -> list[str]:
    slots = re.findall(r"<(?:(\w+):)?\w+>", route)
    paths = []
    for combination in itertools.product(*(values.get(c or "str", ["x"]) for c in slots)):
        filled = iter(combination)
        paths.append("/" + re.sub(r"<(?:\w+:)?\w+>", lambda _m, it=filled: next(it), route))
    return paths


def test_no_url_serves_the_held_out_file_or_reveals_stored_paths(lab, student, instructor):
    dataset = lab.datasets.get()
    submission = scored(lab, student, 0.5, 0.5, dataset=dataset)
    secrets = [HELDOUT_SECRET, dataset.file.name, submission.artifact.name]
    private_root = str(dataset.file.storage.location)
    values = {
        "int": [str(v) for v in (lab.pk, submission.pk, dataset.pk, 12)],
        "str": [lab.session.course.code, "heldout"],
        "slug": ["heldout"],
        "path": [dataset.file.name, submission.artifact.name],
    }
    paths = [f"/media/{dataset.file.name}", f"/private/{dataset.file.name}"]
    for route, pattern in _routes():
        if route.startswith("admin/") or "(?P" in route or route.startswith("^"):
            # Admin (staff only) and regex routes: static file serving is checked below.
            assert not (
                pattern.callback is serve
                and str(pattern.default_args.get("document_root", "")).startswith(private_root)
            ), route
            continue
        paths += _fill(route, values)

    checked = 0
    for user in (student, instructor):
        client = Client(raise_request_exception=False)
        client.force_login(user)
        for path in paths:
            response = client.get(path)
            body = (
                b"".join(response.streaming_content) if response.streaming else response.content
            ).decode("utf-8", "replace")
            for secret in secrets:
                assert secret not in body, (path, secret)
            checked += 1
    assert checked > 20  # the labs API and portal routes were all requested


def test_api_responses_never_contain_the_artifact_path(lab, student, instructor):
    client = token_client(student)
    created = upload(client, lab).json()
    submission = Submission.objects.get(pk=created["id"])
    stored = submission.artifact.name

    responses = [
        str(created),
        str(client.get(created["status_url"]).json()),
        str(client.get(url("lab-submissions", lab_id=lab.pk)).json()),
        str(token_client(instructor).get(created["status_url"]).json()),
        str(token_client(instructor).get(url("lab-submissions", lab_id=lab.pk)).json()),
    ]

    assert stored.startswith("submissions/")
    for text in responses:
        assert stored not in text
        assert "submissions/20" not in text


# --- Leaderboard ----------------------------------------------------------------------------


def leaderboard(client, lab, **params):
    return client.get(url("lab-leaderboard", lab_id=lab.pk), params)


def test_before_the_deadline_everyone_sees_the_public_ranking(lab, student, instructor, course):
    ada = enrol(course, "ada")
    scored(lab, ada, public=0.70, private=0.95)
    scored(lab, student, public=0.90, private=0.10)
    scored(lab, student, public=0.60, private=0.99)
    SubmissionFactory(lab=lab, student=enrol(course, "queued_only"))

    for client in (token_client(student), token_client(instructor)):
        body = leaderboard(client, lab).json()
        assert body["part"] == "public"
        assert body["is_closed"] is False
        rows = body["rows"]
        assert [r["best_score"] for r in rows] == [0.90, 0.70]
        assert [r["rank"] for r in rows] == [1, 2]
        assert [r["public_rank"] for r in rows] == [None, None]
        assert rows[0]["submission_count"] == 2
    mine = leaderboard(token_client(student), lab).json()["rows"]
    assert [r["is_me"] for r in mine] == [True, False]
    assert "username" not in mine[0]
    assert mine[1]["display_name"] == ada.first_name  # no display name chosen: the first name
    assert "0.99" not in str(mine) and "0.95" not in str(mine)


def test_the_leaderboard_shows_chosen_display_names_and_instructors_also_see_usernames(
    lab, student, instructor, course
):
    ada = enrol(course, "ada")
    profile_update(actor=ada, user=ada, preferred_name="Addie", display_name="Countess")
    bob = enrol(course, "bob")
    profile_update(actor=bob, user=bob, preferred_name="Bobby", display_name="")
    scored(lab, ada, public=0.9, private=0.5)
    scored(lab, bob, public=0.8, private=0.5)
    scored(lab, student, public=0.7, private=0.5)

    seen = leaderboard(token_client(student), lab).json()["rows"]
    staff = leaderboard(token_client(instructor), lab).json()["rows"]

    names = [r["display_name"] for r in seen]
    assert names == ["Countess", "Bobby", student.first_name]
    assert ada.email not in str(seen) and ada.last_name not in str(seen)
    assert all("username" not in r for r in seen)
    assert [(r["display_name"], r["username"]) for r in staff][:2] == [
        ("Countess", "ada"),
        ("Bobby", "bob"),
    ]


def test_naming_leaderboard_rows_costs_no_query_per_student(lab, course, student):
    scored(lab, student, public=0.5, private=0.5)
    with CaptureQueriesContext(connection) as one:
        selectors.leaderboard(lab=lab, part="public", viewer=student)
    for name in ("ada", "bob", "cy"):
        user = enrol(course, name)
        profile_update(actor=user, user=user, preferred_name="", display_name=name.title())
        scored(lab, user, public=0.6, private=0.5)
    with CaptureQueriesContext(connection) as four:
        rows = selectors.leaderboard(lab=lab, part="public", viewer=student)

    assert len(rows) == 4 and {"Ada", "Bob", "Cy"} <= {r.display_name for r in rows}
    assert len(four.captured_queries) == len(one.captured_queries)


def test_a_teaching_assistant_sees_usernames_and_may_preview_the_private_ranking(
    lab, student, teaching_assistant
):
    scored(lab, student, public=0.5, private=0.3)

    preview = leaderboard(token_client(teaching_assistant), lab, part="private").json()

    assert preview["part"] == "private"
    assert preview["rows"][0]["username"] == student.username
    assert preview["rows"][0]["best_score"] == 0.3


def test_students_cannot_preview_the_private_ranking_but_instructors_can(lab, student, instructor):
    scored(lab, student, public=0.5, private=0.3)

    denied = leaderboard(token_client(student), lab, part="private")
    preview = leaderboard(token_client(instructor), lab, part="private").json()
    bad = leaderboard(token_client(instructor), lab, part="secret")

    assert_error(denied, 403, "permission_denied")
    assert preview["part"] == "private"
    assert preview["rows"][0]["best_score"] == 0.3
    assert preview["rows"][0]["username"] == student.username
    assert_error(bad, 400, "invalid_input")


def test_after_the_deadline_the_private_ranking_shows_the_shake_up(lab, student, course):
    ada, bob = enrol(course, "ada"), enrol(course, "bob")
    scored(lab, ada, public=0.90, private=0.60)
    scored(lab, ada, public=0.70, private=0.65)  # ada's best private score
    scored(lab, bob, public=0.80, private=0.85)
    scored(lab, student, public=0.75, private=0.70)
    close(lab)

    body = leaderboard(token_client(student), lab).json()

    assert body["part"] == "private"
    assert body["is_closed"] is True
    rows = [(r["display_name"], r["rank"], r["best_score"], r["public_rank"]) for r in body["rows"]]
    assert rows == [
        (bob.first_name, 1, 0.85, 2),
        (student.first_name, 2, 0.70, 3),
        (ada.first_name, 3, 0.65, 1),
    ]
    public = leaderboard(token_client(student), lab, part="public").json()
    assert [r["best_score"] for r in public["rows"]] == [0.90, 0.80, 0.75]


def test_ties_share_a_rank_and_the_next_rank_is_skipped(lab, course, student):
    ada, bob, cy = (enrol(course, n) for n in ("ada", "bob", "cy"))
    first = scored(lab, bob, public=0.8, private=0.5)
    scored(lab, ada, public=0.8, private=0.5)
    scored(lab, cy, public=0.6, private=0.5)
    scored(lab, student, public=0.9, private=0.5)
    Submission.objects.filter(pk=first.pk).update(created_at=timezone.now() - timedelta(hours=1))

    rows = leaderboard(token_client(student), lab).json()["rows"]

    assert [(r["rank"], r["best_score"]) for r in rows] == [(1, 0.9), (2, 0.8), (2, 0.8), (4, 0.6)]
    # Among tied students, whoever reached the score first is listed first.
    assert rows[1]["display_name"] == bob.first_name


def test_pseudonyms_hide_names_stably_and_flag_my_row(lab, student, course):
    lab.leaderboard_pseudonyms = True
    lab.save(update_fields=["leaderboard_pseudonyms"])
    ada = enrol(course, "ada")
    scored(lab, ada, public=0.9, private=0.5)
    scored(lab, student, public=0.8, private=0.5)
    client = token_client(student)

    first = leaderboard(client, lab).json()["rows"]
    again = leaderboard(client, lab).json()["rows"]

    names = [r["display_name"] for r in first]
    assert all(re.fullmatch(r"Student [0-9A-F]{4}", n) for n in names)
    assert names == [r["display_name"] for r in again]
    assert names == [
        selectors.leaderboard_pseudonym(lab=lab, user_id=ada.pk),
        selectors.leaderboard_pseudonym(lab=lab, user_id=student.pk),
    ]
    assert [r["is_me"] for r in first] == [False, True]
    text = str(first)
    for user in (ada, student):
        assert user.username not in text
        assert user.last_name not in text


def test_a_pseudonym_depends_on_the_labs_salt_not_only_on_the_user(lab):
    lab_a, lab_b = type(lab)(salt="salt-a"), type(lab)(salt="salt-b")

    a = [selectors.leaderboard_pseudonym(lab=lab_a, user_id=i) for i in range(1, 21)]
    b = [selectors.leaderboard_pseudonym(lab=lab_b, user_id=i) for i in range(1, 21)]

    assert a == [selectors.leaderboard_pseudonym(lab=lab_a, user_id=i) for i in range(1, 21)]
    assert len(set(a)) == 20  # distinct students get distinct names here
    assert sum(x != y for x, y in zip(a, b, strict=True)) >= 15


# --- Re-grades and cancellation ------------------------------------------------------------


def test_an_instructor_regrades_every_scored_submission(
    lab, student, instructor, django_capture_on_commit_callbacks
):
    done = [scored(lab, student, 0.5, 0.5), scored(lab, student, 0.6, 0.6)]
    SubmissionFactory(lab=lab, student=student)  # queued: not re-graded

    with django_capture_on_commit_callbacks() as callbacks:
        response = token_client(instructor).post(url("lab-regrade", lab_id=lab.pk))

    assert response.status_code == 202
    assert response.json() == {"queued": 2}
    assert len(callbacks) == 2
    pending = Submission.objects.filter(regrade_requested_at__isnull=False)
    assert set(pending.values_list("pk", flat=True)) == {s.pk for s in done}


def test_a_student_cannot_regrade(lab, student):
    scored(lab, student, 0.5, 0.5)

    assert_error(
        token_client(student).post(url("lab-regrade", lab_id=lab.pk)), 403, "permission_denied"
    )
    assert not Submission.objects.filter(regrade_requested_at__isnull=False).exists()


def test_an_instructor_cancels_a_queued_submission(lab, student, instructor):
    submission = SubmissionFactory(lab=lab, student=student)

    response = token_client(instructor).post(url("submission-cancel", submission_id=submission.pk))

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled"
    assert response.json()["charged"] is False
    submission.refresh_from_db()
    assert submission.status == "cancelled"
    assert submission.finished_at is not None


def test_a_finished_submission_cannot_be_cancelled(lab, student, instructor):
    submission = scored(lab, student, 0.5, 0.5)

    response = token_client(instructor).post(url("submission-cancel", submission_id=submission.pk))

    body = assert_error(response, 409, "not_cancellable")
    assert "already scored" in body["message"]
    submission.refresh_from_db()
    assert submission.status == "scored"


def test_a_student_cannot_cancel_even_their_own_submission(lab, student):
    submission = SubmissionFactory(lab=lab, student=student)

    response = token_client(student).post(url("submission-cancel", submission_id=submission.pk))

    assert_error(response, 403, "permission_denied")
    submission.refresh_from_db()
    assert submission.status == "queued"


# --- Schema ---------------------------------------------------------------------------------

LABS_OPERATIONS = {
    "/api/v1/labs/{lab_id}/": {"get": "labs_retrieve"},
    "/api/v1/labs/{lab_id}/submissions/": {
        "get": "lab_submissions_list",
        "post": "lab_submissions_create",
    },
    "/api/v1/labs/{lab_id}/leaderboard/": {"get": "labs_leaderboard"},
    "/api/v1/labs/{lab_id}/regrade/": {"post": "labs_regrade"},
    "/api/v1/submissions/{submission_id}/": {"get": "submissions_retrieve"},
    "/api/v1/submissions/{submission_id}/cancel/": {"post": "submissions_cancel"},
}


def test_the_schema_documents_every_labs_endpoint_and_its_errors():
    schema = APIClient().get("/api/schema/", {"format": "json"}).json()

    documented = {
        path: {m: op["operationId"] for m, op in schema["paths"][path].items() if m != "parameters"}
        for path in LABS_OPERATIONS
    }
    assert documented == LABS_OPERATIONS
    create = schema["paths"]["/api/v1/labs/{lab_id}/submissions/"]["post"]
    assert set(create["requestBody"]["content"]) == {"multipart/form-data"}
    assert {"202", "400", "401", "403", "404", "409", "413", "429"} <= set(create["responses"])
    quota_error = create["responses"]["429"]["content"]["application/json"]["schema"]["$ref"]
    assert quota_error == "#/components/schemas/QuotaExceededError"
    metrics = schema["components"]["schemas"]["SubmissionMetrics"]["properties"]
    assert "until the lab has closed" in metrics["private"]["description"]
