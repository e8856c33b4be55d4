"""The model the load benchmark's uploaders submit: a tiny random BERT classifier over the
lab's labels, zipped like the client zips it, built with the grading tests' own builder
(tests/labs/grading/tiny.py), which the grader accepts. No Django: run.py builds it in a
separate process while the database is set up."""

from __future__ import annotations

import sys
from pathlib import Path


def build_model_archive(dest: Path) -> Path:
    from tests.labs.grading.tiny import build_tiny_model, make_archive

    model_dir = build_tiny_model(dest.parent / "tiny-model", seed=13)
    return make_archive(model_dir, dest)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    build_model_archive(Path(sys.argv[1]))
