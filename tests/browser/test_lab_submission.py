"""A student uploads a model in a real browser and watches a real Celery worker score it, without
reloading the page; then the instructor sees it on the dashboard.

The worker is a separate process: it reads the uploaded archive from PRIVATE_STORAGE_ROOT (the
FileFields bind their storage at import, from the environment), so nothing here patches storage;
both processes share the same environment. Set LABSHOTS=/some/dir to also save screenshots.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from labs.models import Submission
from tests.factories import PASSWORD
from tests.labs.grading.tiny import build_tiny_model, make_archive
from tests.labs.pipeline import enrol_student, flush_broker, make_lab, worker_env
from tests.workers import celery_worker

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

SHOTS = os.environ.get("LABSHOTS")


@pytest.fixture
def worker(tmp_path):
    flush_broker()
    with celery_worker(env=worker_env(), log_path=tmp_path / "worker.log") as process:
        yield process


def _log_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")


def _shot(page, name: str) -> None:
    if not SHOTS:
        return
    Path(SHOTS).mkdir(parents=True, exist_ok=True)
    for width, suffix in ((1280, "desktop"), (390, "phone")):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(Path(SHOTS) / f"{name}-{suffix}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_a_student_watches_their_model_get_scored_live(
    page, context, live_server, worker, tmp_path
):
    lab, instructor = make_lab(
        tmp_path,
        instructions="Fine-tune a classifier for **negative / neutral / positive** reviews.",
        closes_at=timezone.now() + timedelta(days=3),
    )
    student = enrol_student(lab)
    archive = make_archive(build_tiny_model(tmp_path / "model", seed=3), tmp_path / "my-model.zip")

    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    _log_in(page, live_server, student.username)
    page.goto(f"{live_server.url}/labs/{lab.pk}/")
    assert page.evaluate("typeof window.htmx") == "object"
    page.evaluate("window.__marker = 'still-here'")
    assert page.locator("#quota-box .quota-count strong").inner_text() == "5"

    # A wrong file type dropped on the drop zone is refused in the browser, before any upload.
    page.evaluate(
        """() => {
          const transfer = new DataTransfer();
          transfer.items.add(new File(["not a model"], "notes.txt", { type: "text/plain" }));
          const zone = document.querySelector("[data-dropzone]");
          zone.dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true }));
        }"""
    )
    assert "notes.txt" in page.locator("[data-file-name]").inner_text()
    page.locator("#upload-errors .alert-error").wait_for()
    assert "not a .zip or .tar.gz archive" in page.locator("#upload-errors").inner_text()
    page.get_by_role("button", name="Submit for grading").click()
    assert not Submission.objects.exists()

    page.set_input_files("#id_archive", str(archive))
    assert "my-model.zip" in page.locator("[data-file-name]").inner_text()
    with page.expect_response(lambda r: r.url.endswith(f"/labs/{lab.pk}/submit/")) as info:
        page.get_by_role("button", name="Submit for grading").click()
    assert info.value.status == 201
    submission = Submission.objects.get()
    card = page.locator(f"#submission-{submission.pk}")
    card.wait_for()
    assert card.get_attribute("data-status") in {"queued", "running", "scored"}
    assert page.locator("#quota-box .quota-count strong").inner_text() == "4"  # out-of-band swap
    # The student sees that it worked where they clicked, and the new card is on screen.
    notice = page.locator("[data-upload-notice] .alert-success")
    assert f"Uploaded my-model.zip: Submission {submission.pk} is queued." in notice.inner_text()
    assert card.evaluate(
        "c => { const r = c.getBoundingClientRect(); return r.top >= 0 && r.top < innerHeight; }"
    )
    assert errors == []  # e.g. no "Cannot read properties of undefined (reading 'status')"

    page.wait_for_selector(f'#submission-{submission.pk}[data-status="scored"]', timeout=120_000)

    assert page.evaluate("window.__marker") == "still-here"  # no navigation, no reload
    assert errors == []
    card = page.locator(f"#submission-{submission.pk}")
    assert card.locator(".status-badge").inner_text().strip() == "Scored"
    submission.refresh_from_db()
    shown = card.locator('tr[data-part="public"] td.is-primary').inner_text()
    assert shown == f"{submission.metrics_public['macro_f1']:.3f}"
    assert card.locator('tr[data-part="private"]').count() == 0  # the lab is still open
    matrix = card.locator('.cm[data-part="public"]')
    assert matrix.is_visible()  # the details opened when the result came in
    counts = [int(c) for c in matrix.locator(".cm-cell").all_inner_texts()]
    expected = [v for row in submission.metrics_public["confusion_matrix"] for v in row]
    assert counts == expected
    _shot(page, "lab-page-scored")

    page.goto(f"{live_server.url}/labs/{lab.pk}/leaderboard/")
    # No display name chosen: the leaderboard shows the first name (docs/people.md).
    assert student.first_name in page.locator("#leaderboard").inner_text()
    _shot(page, "leaderboard")

    # The instructor sees it on the dashboard.
    context.clear_cookies()
    _log_in(page, live_server, instructor.username)
    page.goto(f"{live_server.url}/labs/{lab.pk}/dashboard/")
    row = page.locator(f"#row-{submission.pk}")
    assert row.get_attribute("data-status") == "scored"
    assert student.get_full_name() in row.inner_text()
    assert page.locator('[data-stat="scored"]').inner_text() == "1"
    assert page.evaluate("typeof window.Chart") == "function"  # served locally
    page.wait_for_function(
        "document.getElementById('score-histogram').getAttribute('width') !== null"
    )
    _shot(page, "dashboard")


PER_CLASS = {
    "negative": {"precision": 0.812, "recall": 0.774, "f1": 0.793, "support": 1234},
    "neutral": {"precision": 0.701, "recall": 0.733, "f1": 0.717, "support": 987},
    "positive": {"precision": 0.655, "recall": 0.688, "f1": 0.671, "support": 456},
}


def _scored_metrics() -> dict:
    return {
        "n": 2677,
        "accuracy": 0.741,
        "macro_f1": 0.727,
        "weighted_f1": 0.739,
        "per_class": PER_CLASS,
        "confusion_matrix": [[955, 200, 79], [150, 723, 114], [40, 102, 314]],
    }


@pytest.mark.parametrize("width", [390, 1280])
def test_the_per_class_table_shows_every_column_on_a_phone_and_a_desktop(
    page, live_server, tmp_path, width
):
    from tests.factories import SubmissionFactory

    lab, _instructor = make_lab(tmp_path, closes_at=timezone.now() + timedelta(days=3))
    student = enrol_student(lab)
    now = timezone.now()
    submission = SubmissionFactory(
        lab=lab,
        student=student,
        status="scored",
        metrics_public=_scored_metrics(),
        metrics_private=_scored_metrics(),
        finished_at=now,
        started_at=now,
    )
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.set_viewport_size({"width": width, "height": 900})
    _log_in(page, live_server, student.username)
    page.goto(f"{live_server.url}/labs/submissions/{submission.pk}/")

    table = page.locator("table.per-class").first
    table.wait_for()
    headers = table.locator("thead th").all_inner_texts()
    assert headers == ["Label", "Precision", "Recall", "F1", "Support"]
    # No column is clipped: the table fits its box, and the Support cells are inside the page.
    fits = table.evaluate(
        """t => {
          const box = t.parentElement;
          const last = t.querySelector("thead th:last-child").getBoundingClientRect();
          return box.scrollWidth <= box.clientWidth + 1
            && last.right <= document.documentElement.clientWidth + 0.5
            && last.right <= box.getBoundingClientRect().right + 0.5;
        }"""
    )
    sizes = table.evaluate(
        "t => [t.parentElement.clientWidth, t.parentElement.scrollWidth, "
        "document.documentElement.clientWidth, document.documentElement.scrollWidth]"
    )
    assert fits, f"the per-class table overflows at {width} px: box, table, page widths {sizes}"
    assert table.locator("tbody tr").first.locator("td").last.inner_text() == "1234"
    assert errors == []
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"per-class-{width}.png"), full_page=True)


def test_the_lab_page_with_its_submit_command_fits_a_phone(page, live_server, tmp_path):
    lab, _instructor = make_lab(tmp_path)
    student = enrol_student(lab)
    page.set_viewport_size({"width": 390, "height": 900})
    _log_in(page, live_server, student.username)

    page.goto(f"{live_server.url}/labs/{lab.pk}/")

    command = page.locator("[data-submit-command]")
    assert f"--lab {lab.pk} --server {live_server.url}" in command.inner_text()
    # The long command wraps inside its card instead of widening the page.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
