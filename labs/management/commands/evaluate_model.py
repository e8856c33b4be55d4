"""`manage.py evaluate_model MODEL --dataset FILE --labels a,b,c [--json]`: grade a model folder or
archive with exactly the engine the workers use, without the database.

Exit status 0 when scored, 2 when rejected (including an unusable dataset: code invalid_dataset).
With --json the last line of output is one JSON object:
{"status": "scored", "metrics": {...}, "public": {...}, "private": {...}, "timings": {...},
 "notes": [...]} or {"status": "rejected", "code": "...", "message": "..."}.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from labs.grading import onnx_backend
from labs.grading.engine import GradeResult, GradingLimits, grade
from labs.grading.errors import GradingError

EXIT_REJECTED = 2
_MIB = 1024 * 1024


class Command(BaseCommand):
    help = (
        "Grade a fine-tuned sequence-classification model (a save_pretrained folder, or a .zip / "
        ".tar.gz of one) on a held-out CSV / JSONL / Parquet file, exactly as the grading workers "
        "do, without touching the database. Exit status: 0 scored, 2 rejected."
    )
    requires_system_checks: list[str] = []  # offline tool: no checks, no database

    def add_arguments(self, parser) -> None:
        parser.add_argument("model", help="Model folder, or a .zip / .tar.gz of it.")
        parser.add_argument(
            "--dataset", required=True, help="Held-out file with 'text' and 'label' columns."
        )
        parser.add_argument(
            "--labels", required=True, help="The lab's labels, comma-separated, in order."
        )
        parser.add_argument("--json", action="store_true", help="End with one JSON line.")
        parser.add_argument(
            "--timeout", type=float, default=GradingLimits.timeout_s, help="Seconds (600)."
        )
        parser.add_argument(
            "--memory-mb",
            type=int,
            default=GradingLimits.memory_bytes // _MIB,
            help="Memory cap for loading and inference, in MiB (4096).",
        )
        parser.add_argument(
            "--threads",
            type=int,
            default=None,
            help="CPU threads for inference (default: one per CPU this process may use).",
        )
        parser.add_argument(
            "--backend",
            choices=onnx_backend.BACKENDS,
            default="auto",
            help="Inference backend: auto (ONNX Runtime when the job repays the conversion), "
            "torch or onnx. Predictions agree to 1e-4 whichever runs.",
        )
        parser.add_argument("--salt", default="", help="Salt of the public/private split.")
        parser.add_argument(
            "--public-fraction", type=float, default=0.5, help="Share of public rows (0.5)."
        )

    def handle(self, *args, **options) -> None:
        labels = [label.strip() for label in options["labels"].split(",") if label.strip()]
        if not labels:
            raise CommandError("--labels needs at least one label, e.g. negative,neutral,positive")
        if options["timeout"] <= 0 or options["memory_mb"] <= 0:
            raise CommandError("--timeout and --memory-mb must be positive")
        if not 0.0 <= options["public_fraction"] <= 1.0:
            raise CommandError("--public-fraction must be between 0 and 1")
        if options["threads"] is not None and options["threads"] < 1:
            raise CommandError("--threads must be at least 1 (leave it out for one per CPU)")
        limits = GradingLimits(
            timeout_s=options["timeout"],
            memory_bytes=options["memory_mb"] * _MIB,
            threads=options["threads"],
            backend=options["backend"],
        )
        try:
            result = grade(
                Path(options["model"]),
                Path(options["dataset"]),
                lab_labels=labels,
                salt=options["salt"],
                public_fraction=options["public_fraction"],
                limits=limits,
            )
        except GradingError as exc:
            if options["json"]:
                self.stdout.write(json.dumps({"status": "rejected", **exc.as_dict()}))
            else:
                self.stdout.write(f"rejected: {exc.code.value}: {exc.message}")
            self.stdout.flush()
            sys.exit(EXIT_REJECTED)
        if options["json"]:
            self.stdout.write(json.dumps(scored_payload(result)))
        else:
            self.stdout.write(render_table(result, labels))


def _metrics_block(metrics: dict) -> dict:
    keys = ("n", "accuracy", "macro_f1", "weighted_f1", "per_class", "confusion_matrix")
    return {key: metrics[key] for key in keys}


def scored_payload(result: GradeResult) -> dict:
    return {
        "status": "scored",
        "metrics": _metrics_block(result.metrics_all),
        "public": _metrics_block(result.metrics_public),
        "private": _metrics_block(result.metrics_private),
        "timings": result.timings,
        "backend": result.backend,
        "notes": result.notes,
        "model_labels": result.model_labels,
        "dataset_checksum": result.dataset_checksum,
        "grader_version": result.grader_version,
    }


def _score(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def render_table(result: GradeResult, labels: list[str]) -> str:
    parts = {
        "all": result.metrics_all,
        "public": result.metrics_public,
        "private": result.metrics_private,
    }
    t = result.timings
    lines = [
        f"scored: {t['n_examples']} examples, {t['total_s']:.2f} s in all "
        f"({t['examples_per_s']:,.0f} examples/s inference, {result.backend})",
        "",
        f"{'':<14}" + "".join(f"{name:>10}" for name in parts),
        f"{'n':<14}" + "".join(f"{m['n']:>10}" for m in parts.values()),
    ]
    for key, title in (
        ("accuracy", "accuracy"),
        ("macro_f1", "macro-F1"),
        ("weighted_f1", "weighted-F1"),
    ):
        lines.append(f"{title:<14}" + "".join(f"{_score(m[key]):>10}" for m in parts.values()))

    width = max(12, *(len(label) + 2 for label in labels))
    lines += [
        "",
        "per class (all rows)",
        f"{'':<{width}}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>10}",
    ]
    for label in labels:
        row = result.metrics_all["per_class"][label]
        lines.append(
            f"{label:<{width}}{_score(row['precision']):>10}{_score(row['recall']):>10}"
            f"{_score(row['f1']):>10}{row['support']:>10}"
        )

    cell = max(8, *(len(label) + 2 for label in labels))
    lines += [
        "",
        "confusion matrix (rows: true label, columns: predicted)",
        f"{'':<{width}}" + "".join(f"{label:>{cell}}" for label in labels),
    ]
    for label, counts in zip(labels, result.metrics_all["confusion_matrix"], strict=True):
        lines.append(f"{label:<{width}}" + "".join(f"{c:>{cell}}" for c in counts))

    if result.notes:
        lines += ["", "notes:", *(f"- {note}" for note in result.notes)]
    return "\n".join(lines)
