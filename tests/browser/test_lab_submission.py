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

    page.wait_for_selector(f'#submission-{submission.pk}[data-status="scored"]', timeout=120_000)

    assert page.evaluate("window.__marker") == "still-here"  # no navigation, no reload
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
    assert student.get_full_name() in page.locator("#leaderboard").inner_text()
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
