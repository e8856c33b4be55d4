"""The single-file student client, run for real against a live server."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from courseware import services as courseware_services
from labs.models import Submission
from labs.views import CLIENT_PATH
from tests.labs.conftest import MODEL_CONFIG

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("private_storage", "task_queue"),
]

EXPECTED = {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"}


def model_folder(root: Path, *, weights: str = "model.safetensors") -> Path:
    """A folder as save_pretrained + Trainer leave it: the model, plus training leftovers."""
    folder = root / "my-model"
    (folder / "checkpoint-500").mkdir(parents=True)
    (folder / "config.json").write_bytes(MODEL_CONFIG)
    (folder / weights).write_bytes(b"\0" * 300_000)
    (folder / "tokenizer.json").write_text("{}")
    (folder / "tokenizer_config.json").write_text("{}")
    (folder / "training_args.bin").write_bytes(b"pickle")
    (folder / "optimizer.pt").write_bytes(b"pickle")
    (folder / "README.md").write_text("notes")
    (folder / "checkpoint-500" / "model.safetensors").write_bytes(b"\0" * 10)
    return folder


@pytest.fixture
def token(student) -> str:
    return courseware_services.api_token_create(actor=student).key


def client_command(folder: Path, lab, server: str) -> list[str]:
    return [sys.executable, str(CLIENT_PATH), str(folder), "--lab", str(lab.pk), "--server", server]


def run_client(folder: Path, lab, server: str, *args: str, token: str | None = None):
    env = {k: v for k, v in os.environ.items() if k != "COURSEBENCH_TOKEN"}
    if token is not None:
        env["COURSEBENCH_TOKEN"] = token
    return subprocess.run(
        [*client_command(folder, lab, server), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def test_a_model_folder_is_zipped_uploaded_and_accepted(tmp_path, lab, student, token, live_server):
    result = run_client(model_folder(tmp_path), lab, live_server.url, "--no-wait", token=token)

    assert result.returncode == 0, result.stderr
    submission = Submission.objects.get(lab=lab, student=student)
    assert f"Submission {submission.pk} accepted" in result.stdout
    assert "Uploading [" in result.stderr and "100%" in result.stderr
    with submission.artifact.open("rb") as stored, zipfile.ZipFile(stored) as archive:
        assert set(archive.namelist()) == EXPECTED
        assert len(archive.read("model.safetensors")) == 300_000
    assert submission.artifact_name == "my-model.zip"


def test_the_client_waits_and_prints_the_metrics(tmp_path, lab, student, token, live_server):
    process = subprocess.Popen(
        [*client_command(model_folder(tmp_path), lab, live_server.url), "--token", token],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        seen = _read_stderr_until(process, "status: queued")
        submission = Submission.objects.get(lab=lab, student=student)
        Submission.objects.filter(pk=submission.pk).update(
            status="scored",
            metrics_public={
                "accuracy": 0.75,
                "macro_f1": 0.6667,
                "weighted_f1": 0.7,
                "per_class": {"negative": {"f1": 0.5}, "positive": {"f1": 0.8}},
            },
            metrics_private={"accuracy": 0.1, "macro_f1": 0.1234, "weighted_f1": 0.1},
        )
        stdout, stderr = process.communicate(timeout=30)
    finally:
        process.kill()

    assert process.returncode == 0, seen + stderr
    assert "status: queued (position 1 in the queue)" in seen
    assert "status: scored" in stderr
    assert f"Submission {submission.pk} scored." in stdout
    assert "macro-F1     0.6667" in stdout
    assert "negative" in stdout
    assert "0.1234" not in stdout  # the private part stays hidden until the lab closes


def test_a_failed_submission_exits_2_with_its_error(tmp_path, lab, token, live_server):
    process = subprocess.Popen(
        [*client_command(model_folder(tmp_path), lab, live_server.url), "--token", token],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        submission = _wait_for_submission(lab)
        Submission.objects.filter(pk=submission.pk).update(
            status="failed",
            error_code="label_mismatch",
            error_message="id2label must be negative, neutral, positive.",
        )
        _stdout, stderr = process.communicate(timeout=30)
    finally:
        process.kill()

    assert process.returncode == 2
    assert "label_mismatch: id2label must be negative, neutral, positive." in stderr


def test_pickle_weights_are_refused_with_the_re_save_hint_and_nothing_is_sent(
    tmp_path, lab, token, live_server
):
    folder = model_folder(tmp_path, weights="pytorch_model.bin")

    result = run_client(folder, lab, live_server.url, "--no-wait", token=token)

    assert result.returncode in (1, 2)
    assert "pytorch_model.bin" in result.stderr
    assert f"model.save_pretrained({str(folder)!r})\n" in result.stderr
    assert "safe_serialization" not in result.stderr  # no such parameter in transformers 5
    assert not Submission.objects.exists()


def test_a_bad_token_exits_2_with_authentication_failed(tmp_path, lab, live_server):
    result = run_client(
        model_folder(tmp_path), lab, live_server.url, "--no-wait", token="wrong-token"
    )

    assert result.returncode == 2
    assert "authentication_failed:" in result.stderr
    assert not Submission.objects.exists()


def test_a_server_error_body_exits_2_with_its_code(tmp_path, lab, token, live_server):
    lab.daily_quota = 1
    lab.save(update_fields=["daily_quota"])
    folder = model_folder(tmp_path)
    assert run_client(folder, lab, live_server.url, "--no-wait", token=token).returncode == 0

    result = run_client(folder, lab, live_server.url, "--no-wait", token=token)

    assert result.returncode == 2
    assert "quota_exceeded:" in result.stderr
    assert Submission.objects.count() == 1


def test_usage_and_network_problems_exit_1(tmp_path, lab, live_server):
    folder = model_folder(tmp_path)

    no_token = run_client(folder, lab, live_server.url, "--no-wait")
    no_server = run_client(folder, lab, "http://127.0.0.1:9", "--no-wait", token="t")
    not_a_model = run_client(tmp_path, lab, live_server.url, "--no-wait", token="t")
    bad_lab = subprocess.run(
        [sys.executable, str(CLIENT_PATH), str(folder), "--lab", "seven"],
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert no_token.returncode == 1
    assert "COURSEBENCH_TOKEN" in no_token.stderr
    assert no_server.returncode == 1
    assert "Cannot reach" in no_server.stderr
    assert not_a_model.returncode == 1
    assert "no config.json" in not_a_model.stderr
    assert bad_lab.returncode == 1
    assert not Submission.objects.exists()


def test_the_portal_serves_the_client_to_logged_in_users_only(student):
    path = reverse("labs:client-download")
    assert path == "/labs/client/coursebench_submit.py"
    client = Client()

    anonymous = client.get(path)
    client.force_login(student)
    response = client.get(path)

    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("login"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/x-python")
    assert response["Content-Disposition"] == 'attachment; filename="coursebench_submit.py"'
    # The same file, submitting to this site by default.
    served = response.content.decode()
    source = CLIENT_PATH.read_text()
    assert 'DEFAULT_SERVER = "http://127.0.0.1:8000"\n' in source
    assert served == source.replace(
        'DEFAULT_SERVER = "http://127.0.0.1:8000"\n', "DEFAULT_SERVER = 'http://testserver'\n"
    )


def test_a_server_pasted_with_a_page_path_gets_the_site_address_to_use(tmp_path, lab, live_server):
    folder = model_folder(tmp_path)
    result = run_client(folder, lab, f"{live_server.url}/labs/{lab.pk}/", "--no-wait", token="t")

    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"--server is the site's address, not a page address: use --server {live_server.url} "
        f"(without /labs/{lab.pk}/)."
    )


def test_a_server_address_that_answers_a_web_page_is_explained_without_the_html(
    tmp_path, lab, token, live_server
):
    folder = model_folder(tmp_path)
    result = run_client(folder, lab, f"{live_server.url}/nowhere", "--no-wait", token=token)

    assert result.returncode == 1
    assert "answered HTTP 404 Not Found with a web page, not the Coursebench API" in result.stderr
    assert "<" not in result.stderr
    assert not Submission.objects.exists()


def test_the_client_uses_the_standard_library_only():
    source = CLIENT_PATH.read_text()
    result = subprocess.run(
        [sys.executable, "-I", "-S", str(CLIENT_PATH), "--help"],
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert result.returncode == 0, result.stderr
    assert "--no-wait" in result.stdout
    assert "import django" not in source and "import requests" not in source


def _read_stderr_until(process: subprocess.Popen, marker: str) -> str:
    """The client's stderr up to and including the first line that starts with `marker`."""
    seen = ""
    for line in process.stderr:
        seen += line
        if line.startswith(marker):
            return seen
    raise AssertionError(f"the client exited before printing {marker!r}:\n{seen}")


def _wait_for_submission(lab, timeout: float = 30.0) -> Submission:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        submission = Submission.objects.filter(lab=lab).first()
        if submission is not None:
            return submission
        time.sleep(0.1)
    raise AssertionError("the client uploaded nothing")
