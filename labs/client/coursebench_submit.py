#!/usr/bin/env python3
"""Submit a fine-tuned Hugging Face model to a Coursebench lab and wait for its score.

    python coursebench_submit.py FOLDER --lab ID [--server URL] [--token TOKEN] [--no-wait]

FOLDER is the directory you passed to `model.save_pretrained(...)` and
`tokenizer.save_pretrained(...)`. Only the files the grader needs are uploaded (config.json,
the *.safetensors weights and the tokenizer files); checkpoints, optimizer states and
training_args.bin stay on your machine.

Your API token comes from --token or the COURSEBENCH_TOKEN environment variable (create one in
the portal under Account -> API token). Exit status: 0 scored (or accepted, with --no-wait),
2 rejected or failed (the server's `code: message` is printed), 1 usage or network problems.

Single file, Python 3.9+ standard library only.
"""

from __future__ import annotations

import argparse
import fnmatch
import http.client
import json
import os
import platform
import re
import sys
import tempfile
import time
import uuid
import zipfile
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

__version__ = "1.0"

#: The portal's download stamps its own address here (labs.views.client_download).
DEFAULT_SERVER = "http://127.0.0.1:8000"
POLL_INTERVAL_S = 2.0
CHUNK = 256 * 1024
FINISHED = ("scored", "failed", "cancelled")

EXIT_OK, EXIT_USAGE, EXIT_REJECTED = 0, 1, 2

#: Top-level files the grader reads; everything else in the folder is left out.
NEEDED = (
    "config.json",
    "*.safetensors",
    "model.safetensors.index.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "vocab.txt",
    "vocab.json",
    "merges.txt",
    "*.model",
    "added_tokens.json",
    "generation_config.json",
)
TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "vocab.json", "*.model")
PICKLE_WEIGHTS = ("*.bin", "*.pt", "*.pth", "*.pkl", "*.ckpt")
#: Trainer state, never model weights: not worth a "re-save as safetensors" hint.
TRAINING_STATE = ("training_args.bin", "optimizer.pt", "scheduler.pt", "scaler.pt", "rng_state*")
#: Already compressed, or as good as: stored as-is, which is much faster than deflating.
STORE = ("*.safetensors", "*.model")


class Failure(Exception):
    """Stop with `message` on stderr and exit status `exit_code`."""

    def __init__(self, message: str, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


class ApiError(Failure):
    """The server answered with an error body `{"code": ..., "message": ...}`."""

    def __init__(self, code: str, message: str, status: int, body: dict) -> None:
        super().__init__(f"{code}: {message}", EXIT_REJECTED)
        self.code, self.status, self.body = code, status, body


def _matches(name: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatch(name, p) for p in patterns)


def _mb(size: float) -> str:
    return f"{size / 2**20:.1f} MB"


def err(message: str = "") -> None:
    print(message, file=sys.stderr, flush=True)


# --- the model folder -------------------------------------------------------------------


def select_files(folder: Path) -> list[Path]:
    """The files to upload, or a Failure that says how to fix the folder."""
    if not folder.is_dir():
        raise Failure(f"{folder} is not a folder. Pass the folder you gave to save_pretrained().")
    entries = sorted(folder.iterdir())
    names = {p.name for p in entries if p.is_file()}
    if "config.json" not in names:
        hint = ""
        checkpoints = [p.name for p in entries if p.is_dir() and p.name.startswith("checkpoint-")]
        if checkpoints:
            hint = (
                f" It has {', '.join(checkpoints[:3])}: pass the folder you saved the final model "
                "to with save_pretrained(), or one of those checkpoint folders."
            )
        raise Failure(f"{folder} has no config.json, so it is not a saved model.{hint}")
    weights = [n for n in names if fnmatch.fnmatch(n, "*.safetensors")]
    if not weights:
        pickles = sorted(
            n for n in names if _matches(n, PICKLE_WEIGHTS) and not _matches(n, TRAINING_STATE)
        )
        if pickles:
            raise Failure(
                f"{folder} has {', '.join(pickles)} but no *.safetensors weights. The grader only "
                "loads safetensors (pickle files can run arbitrary code). Re-save the model with\n"
                f"    model.save_pretrained({str(folder)!r})\n"
                "(transformers 5 always writes model.safetensors) and run this again."
            )
        raise Failure(
            f"{folder} has no *.safetensors weights. Save the model with "
            "model.save_pretrained(folder): transformers 5 writes model.safetensors."
        )
    index = folder / "model.safetensors.index.json"
    if index.is_file():
        try:
            shards = set(json.loads(index.read_text(encoding="utf-8"))["weight_map"].values())
        except (ValueError, KeyError, TypeError, AttributeError):
            raise Failure(f"{index} is not a valid safetensors index.") from None
        missing = sorted(s for s in shards if s not in names)
        if missing:
            raise Failure(f"{folder} lacks weight shards listed in {index.name}: {missing}.")
    if not any(_matches(n, TOKENIZER_FILES) for n in names):
        raise Failure(
            f"{folder} has no tokenizer files (tokenizer.json, vocab.txt, ...). Save the "
            "tokenizer into the same folder: tokenizer.save_pretrained(folder)."
        )
    return [folder / n for n in sorted(names) if _matches(n, NEEDED)]


def build_zip(files: list[Path], dest: Path) -> int:
    with zipfile.ZipFile(dest, "w") as archive:
        for path in files:
            compression = zipfile.ZIP_STORED if _matches(path.name, STORE) else zipfile.ZIP_DEFLATED
            archive.write(path, arcname=path.name, compress_type=compression)
    return dest.stat().st_size


# --- HTTP -------------------------------------------------------------------------------


#: The start of a portal or API page's path: what is left when a page's address is pasted.
_PAGE_PATH = re.compile(r"/(labs|api|courses|accounts|quizzes|sessions)(/|$)")


class Api:
    def __init__(self, server: str, token: str, *, timeout: float = 60.0) -> None:
        parts = urlsplit(server if "://" in server else f"http://{server}")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise Failure(f"--server must look like {DEFAULT_SERVER}, not {server!r}.")
        page = _PAGE_PATH.search(parts.path)
        if page:
            site = f"{parts.scheme}://{parts.netloc}{parts.path[: page.start()]}"
            raise Failure(
                f"--server is the site's address, not a page address: use --server {site} "
                f"(without {parts.path[page.start() :]})."
            )
        self.scheme, self.netloc = parts.scheme, parts.netloc
        self.base_path = parts.path.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.user_agent = f"coursebench-submit/{__version__} Python/{platform.python_version()}"

    def url(self, path: str) -> str:
        return f"{self.scheme}://{self.netloc}{self.path(path)}"

    def path(self, path: str) -> str:
        return f"{self.base_path}/api/v1/{path.lstrip('/')}"

    def _connection(self) -> http.client.HTTPConnection:
        if self.scheme == "https":
            return http.client.HTTPSConnection(self.netloc, timeout=self.timeout)
        return http.client.HTTPConnection(self.netloc, timeout=self.timeout)

    def _headers(self, extra: dict | None = None) -> dict:
        return {
            "Authorization": f"Token {self.token}",
            "Accept": "application/json",
            "User-Agent": self.user_agent,
            **(extra or {}),
        }

    def get(self, path: str) -> dict:
        """GET a path under the server (a full path such as /api/v1/submissions/3/)."""
        conn = self._connection()
        try:
            conn.request("GET", path, headers=self._headers())
            return self._read(conn.getresponse(), path)
        except (OSError, http.client.HTTPException) as exc:
            raise Failure(f"Cannot reach {self.scheme}://{self.netloc}: {exc}") from None
        finally:
            conn.close()

    def upload(self, path: str, field: str, archive: Path, filename: str) -> dict:
        """POST `archive` as multipart field `field`, streamed, with a progress bar."""
        boundary = f"----coursebench{uuid.uuid4().hex}"
        quoted = re.sub(r"[^A-Za-z0-9._-]", "_", filename) or "model.zip"
        head = (
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="{field}"; filename="{quoted}"\r\n'
            "Content-Type: application/zip\r\n\r\n"
        ).encode()
        tail = f"\r\n--{boundary}--\r\n".encode()
        size = archive.stat().st_size
        headers = self._headers(
            {
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "Content-Length": str(len(head) + size + len(tail)),
            }
        )
        conn = self._connection()
        progress = Progress(size, "Uploading")
        try:
            conn.putrequest("POST", path, skip_accept_encoding=True)
            for name, value in headers.items():
                conn.putheader(name, value)
            conn.endheaders()
            conn.send(head)
            with archive.open("rb") as body:
                for chunk in iter(lambda: body.read(CHUNK), b""):
                    conn.send(chunk)
                    progress.advance(len(chunk))
            conn.send(tail)
            progress.done()
            return self._read(conn.getresponse(), path)
        except (OSError, http.client.HTTPException) as exc:
            progress.done()
            # The server may answer early (e.g. 413) and close the connection mid-upload.
            response = _early_response(conn)
            if response is not None:
                return self._read(response, path)
            raise Failure(f"Upload to {self.scheme}://{self.netloc} failed: {exc}") from None
        finally:
            conn.close()

    def _read(self, response: http.client.HTTPResponse, path: str) -> dict:
        raw = response.read()
        try:
            body = json.loads(raw.decode("utf-8")) if raw else {}
        except (UnicodeDecodeError, ValueError):
            body = None
        if 200 <= response.status < 300 and isinstance(body, dict):
            return body
        if isinstance(body, dict) and "code" in body:
            raise ApiError(str(body["code"]), str(body.get("message", "")), response.status, body)
        where = f"{self.scheme}://{self.netloc}{path}"
        if "html" in (response.getheader("Content-Type") or "").lower():
            # A web page (a 404, a login page, a proxy's error), not the API: no HTML dump.
            raise Failure(
                f"{where} answered HTTP {response.status} {response.reason} with a web page, "
                "not the Coursebench API. --server must be the site's address as the lab page "
                f"shows it (e.g. {DEFAULT_SERVER}), not the address of a page such as .../labs/1/."
            )
        snippet = raw[:200].decode("utf-8", "replace").strip()
        raise Failure(
            f"Unexpected answer from {where}: HTTP {response.status} "
            f"{response.reason}. Is --server right? {snippet}"
        )


def _early_response(conn: http.client.HTTPConnection) -> http.client.HTTPResponse | None:
    try:
        return conn.getresponse()
    except (OSError, http.client.HTTPException):
        return None


class Progress:
    """A text progress bar on stderr (one line per 10% when stderr is not a terminal)."""

    WIDTH = 30

    def __init__(self, total: int, label: str) -> None:
        self.total, self.label = max(total, 1), label
        self.sent = 0
        self.started = time.monotonic()
        self.tty = sys.stderr.isatty()
        self.last_decile = -1
        self.finished = False

    def advance(self, n: int) -> None:
        self.sent += n
        fraction = min(self.sent / self.total, 1.0)
        if self.tty:
            self._draw(fraction, end="\r")
        elif int(fraction * 10) > self.last_decile:
            self.last_decile = int(fraction * 10)
            self._draw(fraction, end="\n")

    def _draw(self, fraction: float, end: str) -> None:
        filled = int(self.WIDTH * fraction)
        elapsed = max(time.monotonic() - self.started, 1e-6)
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        sys.stderr.write(
            f"{self.label} [{bar}] {fraction:4.0%} {_mb(self.sent)} / {_mb(self.total)} "
            f"{_mb(self.sent / elapsed)}/s{end}"
        )
        sys.stderr.flush()

    def done(self) -> None:
        if self.tty and not self.finished:
            sys.stderr.write("\n")
            sys.stderr.flush()
        self.finished = True


# --- results ----------------------------------------------------------------------------


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def print_metrics(submission: dict) -> None:
    metrics = submission.get("metrics") or {}
    for part in ("public", "private"):
        values = metrics.get(part)
        if not isinstance(values, dict):
            continue
        print(f"{part.capitalize()} part of the held-out set:")
        for key, title in (
            ("accuracy", "accuracy"),
            ("macro_f1", "macro-F1"),
            ("weighted_f1", "weighted-F1"),
        ):
            if key in values:
                print(f"  {title:<12} {_fmt(values[key])}")
        per_class = values.get("per_class")
        if isinstance(per_class, dict) and per_class:
            print("  per class:")
            for label, scores in per_class.items():
                if isinstance(scores, dict):
                    text = "  ".join(f"{k} {_fmt(v)}" for k, v in scores.items())
                else:
                    text = _fmt(scores)
                print(f"    {label:<14} {text}")
    if metrics.get("private") is None and isinstance(metrics.get("public"), dict):
        print("(The private part's score is revealed when the lab closes.)")
    for note in submission.get("notes") or []:
        print(f"note: {note if isinstance(note, str) else json.dumps(note)}")


def wait_for_result(api: Api, status_url: str, timeout: float) -> dict:
    """Poll the submission until it finishes; print each change of status."""
    path = urlsplit(status_url).path or status_url
    deadline = time.monotonic() + timeout
    shown = None
    network_failures = 0
    while True:
        try:
            submission = api.get(path)
            network_failures = 0
        except ApiError:
            raise
        except Failure:
            network_failures += 1
            if network_failures >= 5:
                raise
            submission = None
        if submission is not None:
            state = submission.get("status")
            position = submission.get("queue_position")
            now_shown = (state, position)
            if now_shown != shown:
                shown = now_shown
                where = f" (position {position} in the queue)" if position else ""
                err(f"status: {state}{where}")
            if state in FINISHED:
                return submission
        if time.monotonic() >= deadline:
            raise Failure(
                f"Still {shown[0] if shown else 'waiting'} after {timeout:.0f} s; the submission "
                f"goes on. Check it later: {status_url}"
            )
        time.sleep(POLL_INTERVAL_S)


# --- main -------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # usage errors exit 1, not argparse's 2 (2 = rejected)
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _when(value) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None
    except ValueError:
        return None


def check_lab(lab: dict) -> None:
    """Refuse before uploading what the server would refuse anyway."""
    if lab.get("is_open") is False:
        opens = _when(lab.get("opens_at"))
        if opens is not None and opens > datetime.now(timezone.utc):  # noqa: UP017 (3.9)
            raise Failure(f"lab_not_open: This lab opens at {lab['opens_at']}.", EXIT_REJECTED)
        raise Failure(
            f"lab_closed: This lab closed at {lab.get('closes_at')}; submissions are no longer "
            "taken.",
            EXIT_REJECTED,
        )
    quota = lab.get("quota") or {}
    if quota.get("left_total") == 0:
        raise Failure("quota_exceeded: You have used all submissions of this lab.", EXIT_REJECTED)
    if quota.get("left_today") == 0:
        raise Failure(
            f"quota_exceeded: You have used today's submissions; 0 left until "
            f"{quota.get('resets_at')}.",
            EXIT_REJECTED,
        )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = _Parser(
        prog="coursebench_submit.py",
        description="Submit a fine-tuned Hugging Face model (the folder written by "
        "save_pretrained) to a Coursebench lab and wait for its score.",
    )
    parser.add_argument("folder", type=Path, help="the folder written by save_pretrained()")
    parser.add_argument("--lab", type=int, required=True, help="the lab id (see the lab's page)")
    parser.add_argument(
        "--server",
        default=os.environ.get("COURSEBENCH_SERVER", DEFAULT_SERVER),
        help=f"the Coursebench address (default: $COURSEBENCH_SERVER or {DEFAULT_SERVER})",
    )
    parser.add_argument(
        "--token",
        default=os.environ.get("COURSEBENCH_TOKEN"),
        help="your API token (default: $COURSEBENCH_TOKEN)",
    )
    parser.add_argument(
        "--no-wait", action="store_true", help="exit once the submission is accepted"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=1800.0,
        help="seconds to wait for the score (default: 1800)",
    )
    return parser.parse_args(argv)


def run(args: argparse.Namespace) -> int:
    files = select_files(args.folder)
    if not args.token:
        raise Failure(
            "No API token: pass --token or set COURSEBENCH_TOKEN (create one in the portal under "
            "Account -> API token)."
        )
    api = Api(args.server, args.token)
    lab = api.get(api.path(f"labs/{args.lab}/"))
    err(f"Lab {lab.get('id')}: {lab.get('title')} ({lab.get('course')})")
    quota = lab.get("quota") or {}
    if quota:
        err(f"Submissions left today: {quota.get('left_today')} (resets {quota.get('resets_at')})")
    check_lab(lab)

    with tempfile.TemporaryDirectory(prefix="coursebench-") as tmp:
        archive = Path(tmp) / f"{args.folder.resolve().name or 'model'}.zip"
        total = sum(p.stat().st_size for p in files)
        err(f"Packing {len(files)} files ({_mb(total)}): {', '.join(p.name for p in files)}")
        size = build_zip(files, archive)
        limit = lab.get("max_upload_bytes")
        if isinstance(limit, int) and size > limit:
            raise Failure(
                f"too_large: the archive is {_mb(size)}; this lab accepts at most {_mb(limit)}.",
                EXIT_REJECTED,
            )
        accepted = api.upload(
            api.path(f"labs/{args.lab}/submissions/"), "archive", archive, archive.name
        )

    print(f"Submission {accepted['id']} accepted ({accepted.get('status')}).")
    left = (accepted.get("quota") or {}).get("left_today")
    if left is not None:
        err(f"Submissions left today: {left}")
    status_url = accepted.get("status_url") or api.url(f"submissions/{accepted['id']}/")
    if args.no_wait:
        print(f"Status: {status_url}")
        return EXIT_OK

    submission = wait_for_result(api, status_url, args.timeout)
    if submission["status"] == "scored":
        print(f"Submission {submission['id']} scored.")
        print_metrics(submission)
        return EXIT_OK
    code = submission.get("error_code") or submission["status"]
    message = submission.get("error_message") or f"The submission was {submission['status']}."
    err(f"{code}: {message}")
    return EXIT_REJECTED


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return run(args)
    except Failure as exc:
        err(exc.message)
        return exc.exit_code
    except KeyboardInterrupt:
        err("\nInterrupted. A submission already accepted is still graded; check it in the portal.")
        return 130


if __name__ == "__main__":
    sys.exit(main())
