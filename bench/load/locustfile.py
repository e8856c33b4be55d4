"""The class on the portal (bench/load/run.py starts it; see bench/README.md).

Three kinds of student, each a Locust user with its own session cookie, on a timetable read
from the run's plan (`BENCH_LOAD_PLAN`, a JSON file written by run.py):

- quiz takers log in and start the quiz at a random moment of the first minute after `t0`,
  autosave one answer every 20-40 s, and submit at a random moment of the last minute before
  the quiz's deadline;
- browsers log in before `t0`, then open the course and session pages, tick homework, open
  the lab and poll their submissions list, every 5-15 s, until the deadline;
- uploaders log in and upload a small model, one at a time spread over the run, then poll
  the submission's card every 2 s (as the page does) until it is scored.

Every request is recorded (start, type, time, ok, the server's query count and time) and
every autosave the server confirmed, to files named in the plan, for run.py's report.
"""

from __future__ import annotations

import csv
import itertools
import json
import os
import random
import re
import time
import uuid
from pathlib import Path

from locust import FastHttpUser, constant, events, task

PLAN = json.loads(Path(os.environ["BENCH_LOAD_PLAN"]).read_text())
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
CSRF_HEADER = re.compile(r'"X-CSRFToken": "([^"]+)"')
ANSWER_URL = re.compile(r'hx-post="/quizzes/attempts/(\d+)/answers/(\d+)/"')
SUBMISSION_ID = re.compile(r'id="submission-(\d+)"')
CARD_STATUS = re.compile(r'data-status="(\w+)"')
FINISHED = {"scored", "failed", "cancelled"}

RECORDS: list[tuple] = []
SAVED: dict[str, str] = {}  # "attempt/slot" -> the last text the server confirmed
UPLOADS: list[dict] = []
_counters = {kind: itertools.count() for kind in ("quiz", "browse", "upload")}


@events.request.add_listener
def _record(request_type, name, response_time, response, exception, start_time=None, **_kw):
    headers = getattr(response, "headers", None) or {}
    RECORDS.append(
        (
            round(start_time or time.time(), 3),
            name,
            round(response_time, 1),
            0 if exception else 1,
            headers.get("X-Bench-Queries", ""),
            headers.get("X-Bench-Server-Ms", ""),
            getattr(response, "status_code", 0),
        )
    )


@events.quitting.add_listener
def _dump(environment, **_kw):
    out = Path(PLAN["out_dir"])
    with (out / "requests.csv").open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["start", "name", "ms", "ok", "queries", "server_ms", "status"])
        writer.writerows(RECORDS)
    (out / "autosaves.json").write_text(json.dumps(SAVED))
    (out / "uploads.json").write_text(json.dumps(UPLOADS))


def sleep_until(moment: float) -> None:
    delay = moment - time.time()
    if delay > 0:
        time.sleep(delay)  # gevent-patched: yields to the other users


class Student(FastHttpUser):
    abstract = True
    wait_time = constant(0)
    kind = ""
    # Each user runs its own timetable once (`script`), then idles; run.py stops Locust.

    def on_start(self) -> None:
        self.index = next(_counters[self.kind])
        names = PLAN["users"][self.kind]
        self.username = names[self.index % len(names)]
        self.rng = random.Random(f"{self.kind}-{self.index}-{PLAN['seed']}")
        self.csrf = ""
        self.done = False

    def _expect(self, method: str, url: str, name: str, status: int, **kwargs):
        """Send; a status other than `status` (or a body failing `check`) is an error."""
        check = kwargs.pop("check", None)
        with self.client.request(
            method, url, name=name, catch_response=True, allow_redirects=False, **kwargs
        ) as response:
            if response.status_code != status:
                response.failure(f"{response.status_code} (expected {status})")
            elif check is not None and not check(response.text or ""):
                response.failure("unexpected body")
            else:
                response.success()
            return response

    def _htmx(self) -> dict[str, str]:
        return {"HX-Request": "true", "X-CSRFToken": self.csrf}

    def login(self) -> bool:
        page = self._expect("GET", "/accounts/login/", "login page", 200)
        token = CSRF_INPUT.search(page.text or "")
        if token is None:
            return False
        response = self._expect(
            "POST",
            "/accounts/login/",
            "login",
            302,
            data={
                "username": self.username,
                "password": PLAN["password"],
                "csrfmiddlewaretoken": token.group(1),
            },
            headers={"Referer": self.host + "/accounts/login/"},
        )
        return response.status_code == 302

    def page(self, url: str, name: str, status: int = 200):
        response = self._expect("GET", url, name, status)
        found = CSRF_HEADER.search(response.text or "")
        if found:
            self.csrf = found.group(1)
        return response

    @task
    def timetable(self) -> None:
        if self.done:
            time.sleep(60)
            return
        self.done = True
        self.script()

    def script(self) -> None:
        raise NotImplementedError


class QuizTaker(Student):
    kind = "quiz"
    fixed_count = PLAN["counts"]["quiz"]

    def _text(self, slot: int) -> str:
        return f"{self.username} q{slot} {uuid.uuid4().hex[:8]}"

    @staticmethod
    def _saved(body: str) -> bool:
        return '<span class="saved">Saved <time' in body

    def script(self) -> None:
        t0, deadline = PLAN["t0"], PLAN["deadline"]
        sleep_until(t0 + self.rng.uniform(0, PLAN["storm_s"]))
        submit_at = deadline - self.rng.uniform(PLAN["submit_margin_s"], PLAN["storm_s"])
        if not self.login():
            return
        self.page("/", "home")
        quiz = f"/quizzes/{PLAN['quiz_id']}/"
        self.page(quiz, "quiz page")
        start = self._expect(
            "POST", quiz + "start/", "quiz start", 302, headers={"X-CSRFToken": self.csrf}
        )
        location = start.headers.get("Location", "") if start.status_code == 302 else ""
        if "/quizzes/attempts/" not in location:
            return
        attempt_page = self.page(location, "attempt page")
        slots = [(int(a), int(s)) for a, s in ANSWER_URL.findall(attempt_page.text or "")]
        if not slots:
            return
        attempt_id = slots[0][0]
        order = [s for _, s in slots]
        self.rng.shuffle(order)
        for slot in itertools.cycle(order):
            next_save = time.time() + self.rng.uniform(20, 40)
            if next_save >= submit_at:
                break
            sleep_until(next_save)
            text = self._text(slot)
            response = self._expect(
                "POST",
                f"/quizzes/attempts/{attempt_id}/answers/{slot}/",
                "autosave",
                200,
                data={f"q{slot}-text": text},
                headers=self._htmx(),
                check=self._saved,
            )
            if response.status_code == 200 and self._saved(response.text or ""):
                SAVED[f"{attempt_id}/{slot}"] = text
        sleep_until(submit_at)
        submitted = self._expect(
            "POST",
            f"/quizzes/attempts/{attempt_id}/submit/",
            "submit",
            302,
            data={"csrfmiddlewaretoken": self.csrf},
            headers={"Referer": self.host + location},
            check=lambda _body: True,
        )
        if submitted.status_code == 302:
            self.page(submitted.headers.get("Location", ""), "review page")


class Browser(Student):
    kind = "browse"
    fixed_count = PLAN["counts"]["browse"]

    def script(self) -> None:
        sleep_until(PLAN["start"] + self.rng.uniform(0, PLAN["lead_s"] - 3))
        if not self.login():
            return
        course = f"/courses/{PLAN['course_slug']}/"
        session = f"{course}sessions/{PLAN['session_number']}/"
        lab = f"/labs/{PLAN['lab_id']}/"
        self.page(session, "session page")
        while time.time() < PLAN["deadline"]:
            time.sleep(self.rng.uniform(5, 15))
            action = self.rng.choice(["course", "session", "tick", "lab", "poll", "poll"])
            if action == "course":
                self.page(course, "course page")
            elif action == "session":
                self.page(session, "session page")
            elif action == "tick":
                task = self.rng.choice(PLAN["homework_task_ids"])
                self._expect(
                    "POST",
                    f"/homework/{task}/completion/",
                    "homework tick",
                    200,
                    data={"done": self.rng.choice(["1", "0"])},
                    headers=self._htmx(),
                )
            elif action == "lab":
                self.page(lab, "lab page")
            else:
                self.page(f"{lab}submissions/", "lab status poll")


class Uploader(Student):
    kind = "upload"
    fixed_count = PLAN["counts"]["upload"]

    def script(self) -> None:
        sleep_until(PLAN["start"] + PLAN["upload_first_s"] + self.index * PLAN["upload_every_s"])
        if not self.login():
            return
        lab = f"/labs/{PLAN['lab_id']}/"
        self.page(lab, "lab page")
        archive = Path(PLAN["archive"]).read_bytes()
        boundary = uuid.uuid4().hex
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="archive"; '
                f'filename="model.zip"\r\nContent-Type: application/zip\r\n\r\n'
            ).encode()
            + archive
            + f"\r\n--{boundary}--\r\n".encode()
        )
        uploaded_at = time.time()
        response = self._expect(
            "POST",
            f"{lab}submit/",
            "upload",
            201,
            data=body,
            headers={**self._htmx(), "Content-Type": f"multipart/form-data; boundary={boundary}"},
            check=lambda text: SUBMISSION_ID.search(text) is not None,
        )
        found = SUBMISSION_ID.search(response.text or "")
        if found is None:
            return
        submission = int(found.group(1))
        status = "queued"
        while time.time() < uploaded_at + PLAN["grading_wait_s"]:
            time.sleep(2)
            card = self.page(f"/labs/submissions/{submission}/card/?live=1", "submission card poll")
            seen = CARD_STATUS.search(card.text or "")
            status = seen.group(1) if seen else status
            if status in FINISHED:
                break
        UPLOADS.append(
            {"submission": submission, "status": status, "seen_s": time.time() - uploaded_at}
        )
