import pytest
from django.core.management import CommandError, call_command

from labs.models import HeldOutDataset
from tests.factories import LabFactory
from tests.labs.grading.tiny import SAMPLE_ROWS, write_dataset

pytestmark = pytest.mark.django_db


def test_it_stores_a_valid_file_as_the_next_version_and_prints_the_label_counts(
    tmp_path, capsys, private_storage
):
    lab = LabFactory(labels=["negative", "neutral", "positive"])
    path = write_dataset(tmp_path / "heldout.csv", SAMPLE_ROWS)

    call_command("heldout_upload", lab.pk, str(path))
    call_command("heldout_upload", lab.pk, str(path))

    out = capsys.readouterr().out
    assert "dataset v1: 12 rows (negative 4, neutral 4, positive 4)" in out
    assert "dataset v2" in out
    assert list(HeldOutDataset.objects.values_list("version", flat=True).order_by("version")) == [
        1,
        2,
    ]


def test_it_rejects_unknown_labels_with_their_rows_and_stores_nothing(tmp_path, private_storage):
    lab = LabFactory(labels=["negative", "neutral", "positive"])
    path = write_dataset(tmp_path / "bad.csv", [("fine", "positive"), ("meh", "mixed")])

    with pytest.raises(CommandError, match="mixed"):
        call_command("heldout_upload", lab.pk, str(path))

    assert not HeldOutDataset.objects.exists()


def test_it_rejects_an_unsupported_file_type(tmp_path, private_storage):
    lab = LabFactory()
    path = tmp_path / "heldout.xlsx"
    path.write_bytes(b"PK")

    with pytest.raises(CommandError, match=r"upload \.csv, \.jsonl or \.parquet"):
        call_command("heldout_upload", lab.pk, str(path))
