"""The load benchmark: a class on the portal, measured (issue 13; docs/benchmarks.md, "Load").

    .venv/bin/python bench/load/run.py            # the class: 300 + 100 + 30 students, ~12 min
    .venv/bin/python bench/load/run.py --quick    # 30 + 10 + 3 students, ~4 min, for development

One command does everything on this machine and stops everything it started:

1. a fresh PostgreSQL database (`--db`, default cb_loadbench) on the shared server (dropped and
   re-created; the server itself is never restarted) and a Redis database (`--redis-db`,
   flushed) on the shared Redis, as broker and cache;
2. `migrate`, `collectstatic`, the demo course (`demo_load`), the students (one known
   password), a 20-question timed quiz (bench/load/fixture.py) and a tiny model archive;
3. gunicorn from gunicorn.conf.py (WEB_* variables; 3 processes by default) and one grading
   worker (`celery -A config worker -Q celery,grading,grading_low`, concurrency 1,
   GRADING_NICE from `--grading-nice`) and one maintenance worker (`-Q maintenance`, the
   students' gradebook refreshes), all on bench/load/settings.py: the production
   settings plus a middleware that reports each request's query count;
4. Locust, headless (bench/load/locustfile.py), with its CSV stats;
5. the report: requests/s, p50/p95/p99 per request type for the whole run and for the start
   (login) and end storms, errors, queries per request type, the lab uploads' queue wait and
   upload→scored times from the database, and the check that every autosave the server
   confirmed is in the database. A markdown table ready for docs/benchmarks.md is printed and
   written with the raw files under var/bench-load/runs/<time>-<mode>/.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import resource
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
BENCH_VAR = ROOT / "var" / "bench-load"

#: Request types that are page views (GET of a whole page or a polled fragment).
PAGE_VIEWS = {
    "login page",
    "home",
    "quiz page",
    "attempt page",
    "review page",
    "course page",
    "session page",
    "lab page",
    "lab status poll",
    "submission card poll",
}
TARGET_MS = 150
LOGIN_TARGET_MS = 1000


@dataclass(frozen=True)
class Mode:
    quiz: int
    browse: int
    upload: int
    lead_s: int  # from the start to t0: browsers log in, nobody starts the quiz yet
    window_s: int  # t0 to the deadline
    storm_s: int  # quiz starts in the first storm_s after t0, submits in the last before it
    tail_s: int  # after the deadline, for the last uploads' polls


FULL = Mode(quiz=300, browse=100, upload=30, lead_s=20, window_s=580, storm_s=60, tail_s=30)
QUICK = Mode(quiz=30, browse=10, upload=3, lead_s=10, window_s=120, storm_s=30, tail_s=20)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small class, ~4 minutes")
    parser.add_argument("--db", default="cb_loadbench", help="database name (dropped first)")
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432", help="server")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379", help="server")
    parser.add_argument("--redis-db", type=int, default=13, help="Redis db (flushed)")
    parser.add_argument("--port", type=int, default=0, help="gunicorn port (0: a free one)")
    parser.add_argument(
        "--web-concurrency", default=os.environ.get("WEB_CONCURRENCY", "3"), help="WEB_*"
    )
    parser.add_argument("--web-threads", default=os.environ.get("WEB_THREADS", "1"))
    parser.add_argument(
        "--grading-nice", default="10", help="GRADING_NICE for the worker (0: same priority)"
    )
    parser.add_argument(
        "--maintenance-nice",
        type=int,
        default=10,
        help="niceness of the maintenance worker (the systemd unit's Nice=; 0: same priority)",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--report-only",
        type=Path,
        metavar="RUN_DIR",
        help="re-analyse a kept run (its database must still be there: the last run's)",
    )
    return parser.parse_args(argv)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def log(message: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", flush=True)


# --- the environment ---------------------------------------------------------------------------


def bench_environment(args: argparse.Namespace, port: int, var_dir: Path) -> dict[str, str]:
    redis_url = f"{args.redis.rstrip('/')}/{args.redis_db}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.load.settings",
        "PYTHONPATH": str(ROOT),
        "COURSEBENCH_ENV_FILE": "",  # never the developer's .env
        "COURSEBENCH_VAR_DIR": str(var_dir),
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(40),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": f"{args.pg.rstrip('/')}/{args.db}",
        "CELERY_BROKER_URL": redis_url,
        "CACHE_URL": redis_url,
        "WEB_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": str(args.web_concurrency),
        "WEB_THREADS": str(args.web_threads),
        "GRADING_NICE": str(args.grading_nice),
        "LOG_LEVEL": "INFO",
        "OMP_WAIT_POLICY": "PASSIVE",
    }
    env.pop("PYTEST_VERSION", None)
    return env


def fresh_database(args: argparse.Namespace) -> None:
    import psycopg

    with psycopg.connect(f"{args.pg.rstrip('/')}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{args.db}"')


def collect_static() -> bool:
    """`collectstatic` (hashed, compressed: minutes on a busy 2-core box), skipped when no
    source file changed since the last run's. Returns whether it ran."""
    import hashlib

    from django.conf import settings
    from django.contrib.staticfiles.finders import get_finders
    from django.core.management import call_command

    entries = []
    for finder in get_finders():
        for path, storage in finder.list([]):
            stat = Path(storage.path(path)).stat()
            entries.append(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n")
    digest = hashlib.sha256("".join(sorted(entries)).encode())
    stamp = Path(settings.STATIC_ROOT) / ".bench-load-sources"
    if stamp.exists() and stamp.read_text() == digest.hexdigest():
        return False
    call_command("collectstatic", interactive=False, verbosity=0)
    stamp.write_text(digest.hexdigest())
    return True


def flush_redis(args: argparse.Namespace) -> None:
    import redis

    redis.Redis.from_url(f"{args.redis.rstrip('/')}/{args.redis_db}").flushdb()


# --- processes ---------------------------------------------------------------------------------


class Processes:
    """The web server and the worker, each in its own process group, stopped on exit."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env, self.logs, self.started = env, logs, {}

    def start(self, name: str, command: list[str], *, nice: int = 0) -> subprocess.Popen:
        out = (self.logs / f"{name}.log").open("w")
        proc = subprocess.Popen(
            command,
            cwd=ROOT,
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            # As systemd's Nice= does for the unit (deploy/systemd/coursebench-maintenance.service).
            preexec_fn=(lambda: os.nice(nice)) if nice else None,
        )
        self.started[name] = proc
        return proc

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time used so far by each process tree (children that exited included)."""
        import psutil

        totals = {}
        for name, proc in self.started.items():
            total = 0.0
            try:
                root = psutil.Process(proc.pid)
                for p in [root, *root.children(recursive=True)]:
                    with contextlib.suppress(psutil.Error):
                        t = p.cpu_times()
                        total += t.user + t.system + t.children_user + t.children_system
            except psutil.Error:
                pass
            totals[name] = round(total, 1)
        return totals

    def stop(self) -> None:
        for proc in self.started.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.started.values():
            try:
                proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def wait_ready(url: str, worker_log: Path, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    web = worker = False
    while time.monotonic() < deadline and not (web and worker):
        if not web:
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(url + "/readyz", timeout=5) as response,  # noqa: S310
            ):
                web = response.status == 200
        worker = worker or " ready." in worker_log.read_text(errors="replace")
        time.sleep(1)
    if not (web and worker):
        raise SystemExit(f"not ready after {timeout:.0f} s (web {web}, worker {worker})")


class LoadSampler(threading.Thread):
    """The machine's load average and CPU use (all tenants) every 5 s during the run."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.samples: list[tuple[float, float, float]] = []  # time, loadavg1, busy %
        self.stop_event = threading.Event()

    @staticmethod
    def _cpu() -> tuple[int, int]:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
        idle = fields[3] + fields[4]
        return sum(fields), idle

    def run(self) -> None:
        total0, idle0 = self._cpu()
        while not self.stop_event.wait(5):
            total, idle = self._cpu()
            busy = 100 * (1 - (idle - idle0) / max(1, total - total0))
            total0, idle0 = total, idle
            self.samples.append((time.time(), float(loadavg().split()[0]), busy))


# --- the report --------------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def read_requests(path: Path) -> list[dict]:
    with path.open() as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        row["start"], row["ms"] = float(row["start"]), float(row["ms"])
        row["ok"] = row["ok"] == "1"
    return rows


def summarise(rows: list[dict], plan: dict) -> dict:
    t0, deadline, storm = plan["t0"], plan["deadline"], plan["storm_s"]
    phases = {
        "start storm": (t0, t0 + storm),
        "end storm": (deadline - storm, deadline),
    }
    names = sorted({r["name"] for r in rows}, key=lambda n: ORDER.get(n, 99))
    per_type = []
    for name in names:
        mine = [r for r in rows if r["name"] == name]
        times = [r["ms"] for r in mine]
        queries = [int(r["queries"]) for r in mine if r["queries"]]
        entry = {
            "name": name,
            "n": len(mine),
            "errors": sum(not r["ok"] for r in mine),
            "p50": pct(times, 50),
            "p95": pct(times, 95),
            "p99": pct(times, 99),
            "max": max(times),
            "queries_median": statistics.median(queries) if queries else None,
            "queries_max": max(queries) if queries else None,
            "server_p50": pct([float(r["server_ms"]) for r in mine if r["server_ms"]], 50),
            "server_p95": pct([float(r["server_ms"]) for r in mine if r["server_ms"]], 95),
        }
        for phase, (lo, hi) in phases.items():
            window = [r["ms"] for r in mine if lo <= r["start"] < hi]
            entry[phase] = {"n": len(window), "p95": pct(window, 95) if window else None}
        per_type.append(entry)
    starts = [r["start"] for r in rows]
    span = max(starts) - min(starts) if starts else 1
    buckets: dict[int, int] = {}
    for s in starts:
        buckets[int(s // 10)] = buckets.get(int(s // 10), 0) + 1
    storms = {}
    for phase, (lo, hi) in phases.items():
        window = [r for r in rows if lo <= r["start"] < hi]
        storms[phase] = {
            "requests": len(window),
            "rps": len(window) / (hi - lo),
            "errors": sum(not r["ok"] for r in window),
        }
    return {
        "requests": len(rows),
        "errors": sum(not r["ok"] for r in rows),
        "rps": len(rows) / span,
        "peak_rps_10s": max(buckets.values()) / 10 if buckets else 0,
        "per_type": per_type,
        "storms": storms,
    }


ORDER = {
    name: i
    for i, name in enumerate(
        [
            "login page",
            "login",
            "home",
            "quiz page",
            "quiz start",
            "attempt page",
            "autosave",
            "submit",
            "review page",
            "course page",
            "session page",
            "homework tick",
            "lab page",
            "lab status poll",
            "upload",
            "submission card poll",
        ]
    )
}


def check_autosaves(saved: dict[str, str]) -> dict:
    from quizzes.models import Attempt, AttemptQuestion

    stored = {
        f"{a}/{p}": (r or {}).get("text")
        for a, p, r in AttemptQuestion.objects.filter(
            attempt_id__in={int(k.split("/")[0]) for k in saved}
        ).values_list("attempt_id", "position", "response")
    }
    lost = sorted(k for k, text in saved.items() if stored.get(k) != text)
    attempts = Attempt.objects.filter(quiz__title__startswith="Load benchmark")
    return {
        "confirmed": len(saved),
        "lost": len(lost),
        "lost_examples": lost[:10],
        "attempts": attempts.count(),
        "finished": attempts.filter(state=Attempt.State.FINISHED).count(),
        "auto_submitted": attempts.filter(auto_submitted=True).count(),
    }


def wait_for_grading(usernames: list[str], timeout: float) -> None:
    from labs.models import Submission

    deadline = time.monotonic() + timeout
    pending = Submission.Status.QUEUED, Submission.Status.RUNNING
    while time.monotonic() < deadline:
        left = Submission.objects.filter(student__username__in=usernames, status__in=pending)
        if not left.exists():
            return
        time.sleep(2)


def upload_times(usernames: list[str]) -> dict:
    from labs.models import Submission

    rows = list(
        Submission.objects.filter(student__username__in=usernames).values(
            "status", "created_at", "queued_at", "started_at", "finished_at", "timings"
        )
    )

    def stats(values: list[float]) -> dict:
        if not values:
            return {}
        return {
            "median": statistics.median(values),
            "p95": pct(values, 95),
            "max": max(values),
        }

    waits = [
        (r["started_at"] - (r["queued_at"] or r["created_at"])).total_seconds()
        for r in rows
        if r["started_at"]
    ]
    scored = [
        (r["finished_at"] - r["created_at"]).total_seconds()
        for r in rows
        if r["finished_at"] and r["status"] == Submission.Status.SCORED
    ]
    grading = [
        (r["finished_at"] - r["started_at"]).total_seconds()
        for r in rows
        if r["finished_at"] and r["started_at"] and r["status"] == Submission.Status.SCORED
    ]
    intervals = [
        (r["started_at"].timestamp(), r["finished_at"].timestamp())
        for r in rows
        if r["started_at"] and r["finished_at"]
    ]
    statuses: dict[str, int] = {}
    for r in rows:
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
    return {
        "submissions": len(rows),
        "statuses": statuses,
        "queue_wait_s": stats(waits),
        "running_s": stats(grading),
        "upload_to_scored_s": stats(scored),
        "grading_intervals": intervals,
    }


def during_grading(rows: list[dict], intervals: list[tuple[float, float]]) -> dict:
    """Page views and autosaves that started while a model was being graded, and the others:
    what grading beside the web server costs the portal."""

    def grading(moment: float) -> bool:
        return any(lo <= moment <= hi for lo, hi in intervals)

    portal = [r for r in rows if r["name"] in PAGE_VIEWS or r["name"] == "autosave"]
    inside = [r["ms"] for r in portal if grading(r["start"])]
    outside = [r["ms"] for r in portal if not grading(r["start"])]
    return {
        "grading": {"n": len(inside), "p50": pct(inside, 50), "p95": pct(inside, 95)},
        "idle": {"n": len(outside), "p50": pct(outside, 50), "p95": pct(outside, 95)},
    }


def fmt(value) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "-"
    if isinstance(value, float):
        return f"{value:,.0f}" if value >= 10 else f"{value:.1f}"
    return str(value)


def targets(summary: dict, autosaves: dict) -> list[tuple[str, bool, str]]:
    by = {e["name"]: e for e in summary["per_type"]}
    checks = [("0 errors", summary["errors"] == 0, f"{summary['errors']} errors")]
    for phase in ("start storm", "end storm"):
        worst = [
            (e[phase]["p95"], e["name"])
            for e in by.values()
            if (e["name"] in PAGE_VIEWS or e["name"] == "autosave") and e[phase]["p95"] is not None
        ]
        p95, name = max(worst) if worst else (None, "-")
        ok = p95 is not None and p95 < TARGET_MS
        checks.append(
            (
                f"page views and autosaves p95 < {TARGET_MS} ms, {phase}",
                ok,
                f"worst {name} {fmt(p95)} ms",
            )
        )
    login = by.get("login", {}).get("start storm", {}).get("p95")
    checks.append(
        (
            f"logins p95 < {LOGIN_TARGET_MS} ms during the login storm",
            login is not None and login < LOGIN_TARGET_MS,
            f"{fmt(login)} ms",
        )
    )
    others = [
        (e["start storm"]["p95"], e["name"])
        for e in by.values()
        if e["name"] != "login" and e["start storm"]["p95"] is not None
    ]
    p95, name = max(others) if others else (None, "-")
    checks.append(
        (
            f"every other request p95 < {TARGET_MS} ms during the login storm",
            p95 is not None and p95 < TARGET_MS,
            f"worst {name} {fmt(p95)} ms",
        )
    )
    checks.append(
        (
            "no lost autosave",
            autosaves["lost"] == 0 and autosaves["confirmed"] > 0,
            f"{autosaves['lost']} of {autosaves['confirmed']} lost",
        )
    )
    return checks


def markdown(result: dict) -> str:
    s, a, u = result["summary"], result["autosaves"], result["uploads"]
    lines = [
        f"#### {result['mode']} run, {result['started']} UTC, commit {result['commit']}",
        "",
        f"{result['students']} ; gunicorn {result['web']} ; 1 grading worker, "
        f"GRADING_NICE={result['grading_nice']} ; maintenance worker nice "
        f"{result.get('maintenance_nice', 0)} ; wall time {result['wall_s']} s.",
        f"Load average before {result['load_before']}, after {result['load_after']}; during the "
        f"run 1-min load {result['load_during']} and machine CPU busy {result['cpu_during']} "
        f"(every tenant, Locust included). CPU used: {result['cpu_seconds']}.",
        "",
        f"**{s['requests']:,} requests, {s['rps']:.1f}/s on average "
        f"(peak {s['peak_rps_10s']:.1f}/s over 10 s), {s['errors']} errors.** Start storm "
        f"{s['storms']['start storm']['rps']:.1f} req/s, end storm "
        f"{s['storms']['end storm']['rps']:.1f} req/s.",
        "",
        "| request | n | p50 ms | p95 ms | p99 ms | max ms | errors | queries (median / max) "
        "| server p50 / p95 ms | start storm p95 ms (n) | end storm p95 ms (n) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for e in s["per_type"]:
        start, end = e["start storm"], e["end storm"]
        lines.append(
            f"| {e['name']} | {e['n']:,} | {fmt(e['p50'])} | {fmt(e['p95'])} | {fmt(e['p99'])} "
            f"| {fmt(e['max'])} | {e['errors']} | {fmt(e['queries_median'])} / "
            f"{fmt(e['queries_max'])} | {fmt(e['server_p50'])} / {fmt(e['server_p95'])} "
            f"| {fmt(start['p95'])} ({start['n']}) "
            f"| {fmt(end['p95'])} ({end['n']}) |"
        )
    q, sc, run = u["queue_wait_s"], u["upload_to_scored_s"], u["running_s"]
    g = result["during_grading"]
    lines += [
        "",
        f"Autosaves: {a['confirmed']:,} confirmed by the server, **{a['lost']} lost** (not in "
        f"the database at the end). Attempts: {a['attempts']} started, {a['finished']} "
        f"finished, {a['auto_submitted']} submitted by the deadline rule instead of the student.",
        "",
        f"Lab uploads: {u['submissions']} submissions, {u['statuses']}; queue wait (queued → "
        f"started) median {fmt(q.get('median'))} s, p95 {fmt(q.get('p95'))} s, max "
        f"{fmt(q.get('max'))} s; grading (started → finished) median {fmt(run.get('median'))} s; "
        f"upload → scored median {fmt(sc.get('median'))} s, p95 {fmt(sc.get('p95'))} s, "
        f"max {fmt(sc.get('max'))} s. Page views and autosaves that started while a model was "
        f"being graded: p50 {fmt(g['grading']['p50'])} ms, p95 {fmt(g['grading']['p95'])} ms "
        f"(n {g['grading']['n']}); the others: p50 {fmt(g['idle']['p50'])} ms, p95 "
        f"{fmt(g['idle']['p95'])} ms (n {g['idle']['n']}).",
        "",
        "| target | met | measured |",
        "| --- | --- | --- |",
    ]
    for name, ok, measured in result["targets"]:
        lines.append(f"| {name} | {'yes' if ok else '**no**'} | {measured} |")
    return "\n".join(lines) + "\n"


# --- main --------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.report_only:
        return report_only(args)
    mode = QUICK if args.quick else FULL
    mode_name = "quick" if args.quick else "full"
    started = datetime.now(UTC)
    out = BENCH_VAR / "runs" / f"{started:%Y%m%dT%H%M%S}-{mode_name}"
    out.mkdir(parents=True)
    var_dir = BENCH_VAR / "var"
    port = args.port or free_port()
    env = bench_environment(args, port, var_dir)
    load_before = loadavg()
    wall_started = time.monotonic()
    log(f"load average {load_before}; results in {out}")

    # The model archive builds (torch import) while the database is set up.
    archive = BENCH_VAR / "model.zip"
    builder = None
    if not archive.exists():
        builder = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "load" / "model.py"), str(archive)],
            cwd=ROOT,
            env=env,
        )

    log(f"database {args.db} (re-created), Redis db {args.redis_db} (flushed)")
    fresh_database(args)
    flush_redis(args)
    if var_dir.exists():
        import shutil

        shutil.rmtree(var_dir / "private", ignore_errors=True)
        shutil.rmtree(var_dir / "media", ignore_errors=True)
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    from bench.load import fixture

    t = time.monotonic()
    call_command("migrate", verbosity=0)
    log(f"migrated in {time.monotonic() - t:.0f} s")
    t = time.monotonic()
    if collect_static():
        log(f"static files collected in {time.monotonic() - t:.0f} s")
    t = time.monotonic()
    data = fixture.build(quiz_takers=mode.quiz, browsers=mode.browse, uploaders=mode.upload)
    log(
        f"demo course, {mode.quiz + mode.browse + mode.upload} students, quiz in "
        f"{time.monotonic() - t:.0f} s"
    )
    if builder is not None and builder.wait() != 0:
        raise SystemExit("building the model archive failed")
    from django.db import connections

    connections.close_all()

    procs = Processes(env, out)
    sampler = LoadSampler()
    try:
        procs.start("gunicorn", [str(VENV_BIN / "gunicorn"), "-c", "gunicorn.conf.py"])
        procs.start(
            "worker",
            [
                str(VENV_BIN / "celery"),
                "-A",
                "config",
                "worker",
                "-Q",
                "celery,grading,grading_low",
                "--concurrency",
                "1",
                "-n",
                f"loadbench-{port}@%h",
                "--loglevel",
                "INFO",
            ],
        )
        # As in production (Procfile): a maintenance worker for the students' gradebook
        # refreshes their ticks and submits queue (gradebook.tasks.student_refresh), at a lower
        # CPU priority than the web server, as the systemd unit runs it (Nice=10).
        procs.start(
            "maintenance",
            [
                str(VENV_BIN / "celery"),
                "-A",
                "config",
                "worker",
                "-Q",
                "maintenance",
                "--concurrency",
                "1",
                "-n",
                f"loadbench-maintenance-{port}@%h",
                "--loglevel",
                "INFO",
            ],
            nice=args.maintenance_nice,
        )
        host = f"http://127.0.0.1:{port}"
        wait_ready(host, out / "worker.log")
        for _ in range(4 * int(args.web_concurrency)):  # every web process renders once
            with urllib.request.urlopen(host + "/accounts/login/", timeout=30):  # noqa: S310
                pass
        log("web and worker ready")
        setup_s = time.monotonic() - wall_started

        start = time.time() + 10  # Locust starts and spawns every user before this
        t0 = start + mode.lead_s
        deadline = t0 + mode.window_s
        fixture.set_deadline(data["quiz_id"], datetime.fromtimestamp(deadline, UTC))
        connections.close_all()
        upload_span = mode.lead_s + mode.window_s - 45
        plan = {
            **data,
            "out_dir": str(out),
            "archive": str(archive),
            "seed": args.seed,
            "counts": {"quiz": mode.quiz, "browse": mode.browse, "upload": mode.upload},
            "start": start,
            "lead_s": mode.lead_s,
            "t0": t0,
            "deadline": deadline,
            "storm_s": mode.storm_s,
            "submit_margin_s": 3,
            "upload_first_s": 5,
            "upload_every_s": upload_span / max(1, mode.upload - 1),
            "grading_wait_s": 240,
        }
        (out / "plan.json").write_text(json.dumps(plan, indent=2))
        users = mode.quiz + mode.browse + mode.upload
        run_time = int(deadline + mode.tail_s - time.time())
        log(f"Locust: {users} users for {run_time} s (quiz deadline at t0 + {mode.window_s} s)")
        sampler.start()
        locust_started = time.monotonic()
        children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(
            [
                str(VENV_BIN / "locust"),
                "-f",
                str(ROOT / "bench" / "load" / "locustfile.py"),
                "--headless",
                "--host",
                host,
                "--users",
                str(users),
                "--spawn-rate",
                str(max(50, users // 4)),
                "--run-time",
                f"{run_time}s",
                "--stop-timeout",
                "5",
                "--csv",
                str(out / "locust"),
                "--only-summary",
                "--loglevel",
                "WARNING",
            ],
            cwd=ROOT,
            env={**os.environ, "BENCH_LOAD_PLAN": str(out / "plan.json")},
            check=False,
        )
        locust_s = time.monotonic() - locust_started
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        locust_cpu = (children.ru_utime - children_before.ru_utime) + (
            children.ru_stime - children_before.ru_stime
        )
        sampler.stop_event.set()
        log("Locust done; waiting for the last submissions to be graded")
        wait_for_grading(data["users"]["upload"], timeout=120)
        cpu = {**procs.cpu_seconds(), "Locust": round(locust_cpu, 1)}
    finally:
        procs.stop()
    load_after = loadavg()

    loads = [x[1] for x in sampler.samples] or [0.0]
    busy = [x[2] for x in sampler.samples] or [0.0]
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    result = {
        "mode": mode_name,
        "started": f"{started:%Y-%m-%d %H:%M}",
        "commit": commit,
        "students": f"{mode.quiz} quiz takers + {mode.browse} browsers + {mode.upload} uploaders",
        "web": f"{args.web_concurrency} processes x {args.web_threads} thread",
        "grading_nice": args.grading_nice,
        "maintenance_nice": args.maintenance_nice,
        "locust_s": locust_s,
        "load_before": load_before,
        "load_after": load_after,
        "load_during": f"{min(loads):.1f}-{max(loads):.1f} (mean {statistics.mean(loads):.1f})",
        "cpu_during": f"{statistics.mean(busy):.0f} % mean, {max(busy):.0f} % max",
        "cpu_seconds": ", ".join(f"{k} {v:.0f} s" for k, v in cpu.items()),
    }
    result["wall_s"] = {
        "set-up": round(setup_s),
        "Locust": round(locust_s),
        "total": round(time.monotonic() - wall_started),
    }
    return report(out, plan, result)


def analyse(out: Path, plan: dict, result: dict) -> dict:
    rows = read_requests(out / "requests.csv")
    saved = json.loads((out / "autosaves.json").read_text())
    result["summary"] = summarise(rows, plan)
    result["autosaves"] = check_autosaves(saved)
    result["uploads"] = upload_times(plan["users"]["upload"])
    result["during_grading"] = during_grading(rows, result["uploads"]["grading_intervals"])
    result["targets"] = targets(result["summary"], result["autosaves"])
    return result


def report(out: Path, plan: dict, meta: dict) -> int:
    """Analyse a run's files (and its database, kept until the next run) and write the report."""
    result = analyse(out, plan, meta)
    from django.db import connections

    connections.close_all()
    (out / "result.json").write_text(json.dumps(result, indent=2, default=str))
    text = markdown(result)
    (out / "report.md").write_text(text)
    print("\n" + text)
    log(f"files in {out}")
    return 0 if all(ok for _, ok, _ in result["targets"]) else 1


def report_only(args: argparse.Namespace) -> int:
    out = args.report_only.resolve()
    plan = json.loads((out / "plan.json").read_text())
    meta = json.loads((out / "result.json").read_text())
    os.environ.update(bench_environment(args, 0, BENCH_VAR / "var"))
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    return report(out, plan, meta)


if __name__ == "__main__":
    sys.exit(main())
