"""Lab fixtures. None is autouse: grading and pipeline tests (real workers in other processes)
share this directory, so each module opts in, e.g.
`pytestmark = pytest.mark.usefixtures("private_storage", "task_queue")`."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.utils import timezone

from core.storage import PrivateFileSystemStorage
from labs import tasks
from labs.models import HeldOutDataset, Submission
from tests.factories import HeldOutDatasetFactory, LabFactory

#: A line of the held-out CSV that must never appear in any response.
HELDOUT_SECRET = "SECRET-HELDOUT-ROW-7f3a the twist ending was predictable"


#: config.json of a 3-label classifier with the factory lab's labels: passes the upload checks.
MODEL_CONFIG = json.dumps(
    {
        "architectures": ["BertForSequenceClassification"],
        "model_type": "bert",
        "id2label": {"0": "negative", "1": "neutral", "2": "positive"},
        "label2id": {"negative": 0, "neutral": 1, "positive": 2},
    }
).encode()


def model_zip(**extra: bytes) -> bytes:
    """A small archive shaped like a save_pretrained folder that passes the upload checks
    (listing and config.json) but is not a loadable model."""
    files = {
        "config.json": MODEL_CONFIG,
        "model.safetensors": b"\0" * 64,
        "tokenizer.json": b"{}",
        **extra,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.fixture
def private_storage(tmp_path, monkeypatch) -> PrivateFileSystemStorage:
    """Artifacts and held-out files go to tmp_path.

    The models' FileFields call `core.storage.private_storage` once, when the models are
    defined, so overriding `settings.STORAGES` would not reach them: patch the fields."""
    storage = PrivateFileSystemStorage(location=str(tmp_path / "private"))
    for model, name in ((Submission, "artifact"), (HeldOutDataset, "file")):
        monkeypatch.setattr(model._meta.get_field(name), "storage", storage)
    return storage


@pytest.fixture
def task_queue(monkeypatch) -> list[tuple[str, int]]:
    """Tasks sent to the broker, recorded instead (transactional tests run on_commit)."""
    sent: list[tuple[str, int]] = []
    for task in (tasks.grade_submission, tasks.regrade_submission):

        def record(args=None, kwargs=None, _name=task.name, **options):
            sent.append((_name, *(args or [])))

        monkeypatch.setattr(task, "apply_async", record)
    return sent


@pytest.fixture
def lab(session12, private_storage):
    """An open lab of `course` (closes in a week) with a held-out dataset."""
    now = timezone.now()
    lab = LabFactory(
        session=session12,
        title="Sentiment lab",
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=7),
        daily_quota=3,
    )
    HeldOutDatasetFactory(
        lab=lab,
        version=1,
        file__data=f"text,label\n{HELDOUT_SECRET},negative\nfine,neutral\ngreat,positive\n".encode(),
    )
    return lab
