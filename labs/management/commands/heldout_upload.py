from pathlib import Path

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from core.actors import SYSTEM
from core.exceptions import ApplicationError
from labs.models import Lab
from labs.services import heldout_dataset_create


class Command(BaseCommand):
    help = (
        "Validate a held-out file (CSV / JSONL / Parquet with `text` and `label` columns) and "
        "store it privately as the lab's next dataset version."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("lab_id", type=int)
        parser.add_argument("path", type=Path)

    def handle(self, *args, lab_id: int, path: Path, **options) -> None:
        lab = Lab.objects.filter(pk=lab_id).first()
        if lab is None:
            raise CommandError(f"No lab {lab_id}; list labs in the admin under Labs.")
        if not path.is_file():
            raise CommandError(f"{path}: no such file.")
        try:
            with path.open("rb") as fh:
                dataset = heldout_dataset_create(
                    lab=lab, actor=SYSTEM, upload=File(fh, name=path.name), filename=path.name
                )
        except ApplicationError as exc:
            raise CommandError(f"{path}: {exc.message}") from exc
        counts = ", ".join(f"{label} {n}" for label, n in dataset.label_counts.items())
        self.stdout.write(
            f"Stored {path.name} as {lab.title} dataset v{dataset.version}: "
            f"{dataset.row_count} rows ({counts}), sha256 {dataset.checksum[:12]}."
        )
