"""The demo baseline job's progress card: on the lab page (students and instructors), on the
dashboard (instructors), and the polled fragment, which only members of the course may read."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from labs import demo
from labs.demo import BaselineProgress

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_storage", "task_queue")]


@pytest.fixture
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"
    settings.VAR_DIR.mkdir()
    return settings.VAR_DIR


@pytest.fixture
def training(lab, var_dir):
    demo._progress_set(lab, BaselineProgress(state="training", message="", step=34, total_steps=85))
    return lab


def _get(user, url: str):
    client = Client()
    if user is not None:
        client.force_login(user)
    return client.get(url)


@pytest.mark.parametrize("who", ["student", "instructor"])
def test_the_lab_page_shows_training_progress(request, who, training):
    html = _get(
        request.getfixturevalue(who), reverse("labs:lab-detail", args=[training.pk])
    ).content.decode()
    assert 'data-baseline-state="training"' in html
    assert "step 34 of 85" in html and 'value="40"' in html
    assert reverse("labs:baseline-progress", args=[training.pk]) in html  # polls while active


def test_the_dashboard_shows_training_progress(instructor, training):
    html = _get(instructor, reverse("labs:dashboard", args=[training.pk])).content.decode()
    assert 'data-baseline-state="training"' in html and "step 34 of 85" in html


def test_a_submitted_baseline_stops_polling_and_points_to_the_leaderboard(student, lab, var_dir):
    demo._progress_set(lab, BaselineProgress(state="submitted", submission_id=7))
    html = _get(student, reverse("labs:baseline-progress", args=[lab.pk])).content.decode()
    assert 'data-baseline-state="submitted"' in html
    assert "hx-trigger" not in html
    assert reverse("labs:leaderboard", args=[lab.pk]) in html


def test_no_card_for_a_lab_without_a_baseline_job(student, lab, var_dir):
    html = _get(student, reverse("labs:lab-detail", args=[lab.pk])).content.decode()
    assert "data-baseline-state" not in html


@pytest.mark.parametrize(("who", "status"), [("other_student", 404), (None, 302)])
def test_the_fragment_is_for_members_only(request, who, status, training):
    user = request.getfixturevalue(who) if who else None
    response = _get(user, reverse("labs:baseline-progress", args=[training.pk]))
    assert response.status_code == status
    assert b"step 34" not in response.content
