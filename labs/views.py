"""Portal views of the labs app: the lab page and uploads, live submission status, "Try it",
the leaderboard, and the instructor pages (edit, held-out dataset, dashboard, CSV export).

Views are thin: a form checks the input, a selector or a service does the work. Access rules
are the API's (labs.api): `selectors.lab_get` / `submission_get` / `tryit_get` answer not found
to non-members (and to students for someone else's submission); the pages that change a lab
get it from `selectors.lab_get_for_instructor`, the pages teaching assistants see too from
`selectors.lab_get_for_staff`, and every service checks its `actor` again. What a student sees
of a submission's metrics comes from `selectors.submission_visible_metrics` only.
No view reads or names a held-out file or a stored artifact: the only files served are the
client, the starter script and the training CSV.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.csv import spreadsheet_cell
from core.decorators import htmx_login_required
from core.exceptions import ApplicationError, NotFoundError
from core.forms import form_error_message as _form_error_message
from core.middleware import is_htmx
from courseware.permissions import is_instructor, is_staff_role
from courseware.selectors import students
from labs import selectors, services, uploads
from labs.demo import TRAINING_CSV_NAME, baseline_progress, training_csv_path
from labs.forms import (
    DatasetUploadForm,
    LabExtensionForm,
    LabForm,
    LeaderboardForm,
    SubmissionFilterForm,
    SubmissionUploadForm,
    TryItForm,
)
from labs.models import Lab, Submission, TryItPrediction

CLIENT_PATH = Path(__file__).resolve().parent / "client" / "coursebench_submit.py"
STARTER_NAME = "train_sentiment.py"
RECENT_ON_LAB_PAGE = 10
DASHBOARD_PAGE_SIZE = 50
#: A "Try it" request still unfinished after this long is shown as lost (its worker died).
TRY_IT_STALE_S = 300


def _instructor_lab(request: HttpRequest, lab_id: int) -> Lab:
    return selectors.lab_get_for_instructor(user=request.user, lab_id=lab_id)


def _staff_lab(request: HttpRequest, lab_id: int) -> tuple[Lab, str]:
    return selectors.lab_get_for_staff(user=request.user, lab_id=lab_id)


def _scope(request: HttpRequest, lab: Lab) -> students.StudentScope:
    """The students the staff member's lists show: `?section=`, held to a TA's section."""
    return students.student_scope(
        user=request.user, course=lab.session.course, section=request.GET.get("section", "")
    )


# --- Downloads --------------------------------------------------------------------------------


def site_address(request: HttpRequest) -> str:
    """This site's address as the client's --server wants it (scheme, host, script prefix)."""
    return request.build_absolute_uri(get_script_prefix()).rstrip("/")


def _stamped(path: Path, values: dict[str, object]) -> bytes:
    """A downloadable script with its ``NAME = ...`` defaults set to this site's values, so what
    it prints and does needs no placeholders. Each default must appear exactly once."""
    source = path.read_text(encoding="utf-8")
    for name, value in values.items():
        pattern = re.compile(rf"^{name}(: [^=]+)? = .*$", re.MULTILINE)
        source, count = pattern.subn(lambda m, n=name, v=value: f"{n}{m[1] or ''} = {v!r}", source)
        if count != 1:
            raise RuntimeError(f"{path.name} must define {name} exactly once, found {count}")
    return source.encode("utf-8")


def _script_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="text/x-python; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
@login_required
def client_download(request: HttpRequest) -> HttpResponse:
    """The single-file submission client (standard library only), as a download that submits
    to this site by default."""
    content = _stamped(CLIENT_PATH, {"DEFAULT_SERVER": site_address(request)})
    return _script_response(content, CLIENT_PATH.name)


def _starter_path() -> Path:
    return Path(settings.BASE_DIR) / "labs" / "starter" / STARTER_NAME


@require_GET
@login_required
def starter_download(request: HttpRequest) -> HttpResponse:
    """The starter training script students adapt (fine-tune, then save_pretrained). From a lab
    page (``?lab=ID``, members only) it knows the lab, so it prints the exact submit command."""
    path = _starter_path()
    if not path.is_file():
        raise NotFoundError("The starter script is not available yet.")
    values: dict[str, object] = {"DEFAULT_SERVER": site_address(request)}
    lab_id = request.GET.get("lab")
    if lab_id is not None:
        if not lab_id.isdigit():
            raise NotFoundError(f"No lab {lab_id[:20]!r}.")
        lab, _role = selectors.lab_get(user=request.user, lab_id=int(lab_id))
        values["DEFAULT_LAB"] = lab.pk
    return _script_response(_stamped(path, values), STARTER_NAME)


@require_GET
@login_required
def training_download(request: HttpRequest, lab_id: int) -> FileResponse:
    """The lab's training set (not secret), for members of the course only."""
    lab, _role = selectors.lab_get(user=request.user, lab_id=lab_id)
    path = training_csv_path(lab)  # never the held-out file: that is in private storage
    if path is None:
        raise NotFoundError("This lab has no training data to download.")
    return FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=TRAINING_CSV_NAME,
        content_type="text/csv; charset=utf-8",
    )


# --- Submission cards (the live status) ---------------------------------------------------


@dataclass
class MetricsPart:
    key: str  # "public" | "private"
    title: str
    metrics: dict
    note: str = ""


@dataclass
class SubmissionCard:
    """A submission as one viewer may see it: visible metrics only, queue place, polling."""

    submission: Submission
    is_staff: bool  # instructors and teaching assistants: names, workers, cancel
    parts: list[MetricsPart] = field(default_factory=list)
    queue_position: int | None = None
    private_hidden: bool = False
    expanded: bool = False
    closes_at: datetime | None = None

    @property
    def poll(self) -> bool:
        return not self.submission.is_finished

    @property
    def can_cancel(self) -> bool:
        return self.is_staff and self.submission.status in (
            Submission.Status.QUEUED,
            Submission.Status.RUNNING,
        )

    @property
    def primary(self) -> float | None:
        if not self.parts:
            return None
        value = self.parts[0].metrics.get(self.submission.lab.primary_metric)
        return value if isinstance(value, int | float) else None


def _card(
    submission: Submission,
    role: str,
    *,
    now: datetime | None = None,
    expanded: bool = False,
    closed: bool | None = None,
    queue_position: int | bool | None = False,
) -> SubmissionCard:
    """`closed` and `queue_position` (False: not given) may come from `_cards`, which reads
    them once for a whole list instead of once per card."""
    lab = submission.lab
    visible = selectors.submission_visible_metrics(
        submission=submission, role=role, now=now, closed=closed
    )
    if closed is None:
        closed = selectors.lab_is_closed(lab=lab, now=now)
    if queue_position is False:
        queue_position = selectors.queue_position(submission=submission)
    parts = []
    public = MetricsPart("public", "Public part", visible["public"]) if visible["public"] else None
    private = (
        MetricsPart("private", "Private part (final)", visible["private"])
        if visible["private"]
        else None
    )
    if private and not closed:
        private.title = "Private part"
        private.note = "Hidden from students until the lab closes."
    ordered = (private, public) if closed else (public, private)
    parts = [p for p in ordered if p is not None]
    return SubmissionCard(
        submission=submission,
        is_staff=is_staff_role(role),
        parts=parts,
        queue_position=queue_position,
        private_hidden=(
            not is_staff_role(role) and not closed and submission.status == Submission.Status.SCORED
        ),
        expanded=expanded,
        closes_at=lab.closes_at,
    )


def _cards(
    submissions: list[Submission], lab: Lab, role: str, *, now: datetime
) -> list[SubmissionCard]:
    """Cards for a list of one lab's submissions in a fixed number of queries: whether the
    lab is closed and the queue positions are read once, not per card (the dashboard's
    50 cards cost 100 queries before)."""
    closed = selectors.lab_is_closed(lab=lab, now=now)
    positions = selectors.queue_positions(submissions=submissions)
    return [
        _card(s, role, now=now, closed=closed, queue_position=positions.get(s.pk))
        for s in submissions
    ]


@never_cache
@require_GET
@htmx_login_required
def submission_card(request: HttpRequest, submission_id: int) -> HttpResponse:
    """The live status fragment. While queued or running it carries hx-trigger="every 2s";
    once finished it comes back without it, so the polling stops."""
    submission, role = selectors.submission_get(user=request.user, submission_id=submission_id)
    card = _card(submission, role, expanded=request.GET.get("live") == "1")
    return render(request, "labs/_submission_card.html", {"card": card})


@require_GET
@login_required
def submission_detail(request: HttpRequest, submission_id: int) -> HttpResponse:
    submission, role = selectors.submission_get(user=request.user, submission_id=submission_id)
    lab = submission.lab
    predictions = selectors.tryit_recent(submission=submission)
    context = {
        "lab": lab,
        "course": lab.session.course,
        "card": _card(submission, role, expanded=True),
        "is_staff": is_staff_role(role),
        "try_form": TryItForm(example=selectors.lab_example_text(lab=lab)),
        "predictions": [_tryit_view(p) for p in predictions],
        "here": f"Submission {submission.pk}",
    }
    return render(request, "labs/submission_detail.html", context)


@require_GET
@login_required
def my_submissions(request: HttpRequest, lab_id: int) -> HttpResponse:
    lab, role = selectors.lab_get(user=request.user, lab_id=lab_id)
    if is_staff_role(role):
        return redirect("labs:dashboard", lab_id=lab.pk)
    submissions = selectors.submission_list(lab=lab, user=request.user, role=role).select_related(
        "lab", "dataset"
    )
    now = timezone.now()
    context = {
        "lab": lab,
        "course": lab.session.course,
        "cards": _cards(list(submissions), lab, role, now=now),
        "quota": selectors.quota_status(lab=lab, student=request.user, now=now),
    }
    return render(request, "labs/my_submissions.html", context)


# --- The lab page and uploads ----------------------------------------------------------------


def _lab_context(request: HttpRequest, lab: Lab, role: str) -> dict[str, Any]:
    now = timezone.now()
    staff = is_staff_role(role)
    dataset = selectors.dataset_active(lab=lab)
    context: dict[str, Any] = {
        "lab": lab,
        "course": lab.session.course,
        "session": lab.session,
        "role": role,
        "is_instructor": is_instructor(role),  # edit and held-out dataset buttons
        "is_staff": staff,
        "phase": selectors.lab_phase(lab=lab, now=now),
        "has_dataset": dataset is not None,
        "has_training": training_csv_path(lab) is not None,
        "has_starter": _starter_path().is_file(),
        "site_address": site_address(request),
        "baseline": baseline_progress(lab),
        "now": now,
    }
    if staff:
        context["dataset"] = dataset
        context["submission_count"] = lab.submissions.count()
        return context
    # A student's own deadline (an extension keeps the lab open for them alone).
    context["phase"] = selectors.lab_phase_for(lab=lab, student=request.user, now=now)
    context["my_closes_at"] = selectors.lab_closes_for(lab=lab, student=request.user)
    context["extended"] = context["my_closes_at"] != lab.closes_at
    context["closed_for_everyone"] = selectors.lab_is_closed(lab=lab, now=now)
    quota = selectors.quota_status(lab=lab, student=request.user, now=now)
    submissions = list(
        selectors.submission_list(lab=lab, user=request.user, role=role).select_related(
            "lab", "dataset"
        )[: RECENT_ON_LAB_PAGE + 1]
    )
    context.update(
        quota=quota,
        cards=_cards(list(submissions[:RECENT_ON_LAB_PAGE]), lab, role, now=now),
        more_submissions=len(submissions) > RECENT_ON_LAB_PAGE,
        can_submit=context["phase"] == "open" and dataset is not None and quota.left > 0,
        form=SubmissionUploadForm(),
    )
    return context


@require_GET
@login_required
def lab_detail(request: HttpRequest, lab_id: int) -> HttpResponse:
    lab, role = selectors.lab_get(user=request.user, lab_id=lab_id)
    return render(request, "labs/lab_detail.html", _lab_context(request, lab, role))


# CsrfViewMiddleware reads a form post's body to find its token, so the upload views are
# csrf_exempt and check CSRF themselves (csrf_protect on the inner function, Django's documented
# pattern) only after labs.uploads has refused, from the headers alone, an upload over the
# lab's limit. That refusal changes nothing, so it needs no CSRF token.
@csrf_exempt
@require_POST
@htmx_login_required
def submission_create(request: HttpRequest, lab_id: int) -> HttpResponse:
    """The upload form's target. With JS (an XHR sent with HX-Request) it answers the new
    submission's card, or an error fragment with the service's message; without JS it
    redirects back to the lab page, or renders it with the error."""
    lab, role = selectors.lab_get(user=request.user, lab_id=lab_id)
    try:
        uploads.upload_check_length(lab=lab, request=request)
    except ApplicationError as exc:
        return _upload_error(request, lab, role, exc)
    return _submission_create(request, lab, role)


def _upload_error(request: HttpRequest, lab: Lab, role: str, exc: ApplicationError) -> HttpResponse:
    if is_htmx(request):
        return render(request, "labs/_upload_error.html", {"error": exc}, status=exc.status_code)
    context = _lab_context(request, lab, role)
    context["upload_error"] = exc
    return render(request, "labs/lab_detail.html", context, status=exc.status_code)


@csrf_protect
def _submission_create(request: HttpRequest, lab: Lab, role: str) -> HttpResponse:
    form = SubmissionUploadForm(request.POST, request.FILES)
    try:
        if not form.is_valid():
            raise ApplicationError("invalid_input", _form_error_message(form), status_code=400)
        upload = form.cleaned_data["archive"]
        submission = services.submission_create(
            lab=lab, actor=request.user, upload=upload, filename=upload.name or "archive.zip"
        )
    except ApplicationError as exc:
        if exc.status_code == 404:
            raise
        return _upload_error(request, lab, role, exc)
    if is_htmx(request):
        submission = Submission.objects.select_related("lab").get(pk=submission.pk)
        context = {
            "card": _card(submission, role),
            "quota": selectors.quota_status(lab=lab, student=request.user),
            "lab": lab,
        }
        return render(request, "labs/_submission_created.html", context, status=201)
    messages.success(
        request, f"Uploaded {submission.artifact_name}: submission {submission.pk} is queued."
    )
    return redirect(reverse("labs:lab-detail", args=[lab.pk]) + f"#submission-{submission.pk}")


# --- "Try it" ------------------------------------------------------------------------------


@dataclass
class TryItView:
    prediction: TryItPrediction
    stale: bool
    scores: list[tuple[str, float]]

    @property
    def poll(self) -> bool:
        return not self.prediction.is_finished and not self.stale


def _tryit_view(prediction: TryItPrediction) -> TryItView:
    age = (timezone.now() - prediction.created_at).total_seconds()
    labels = list(prediction.submission.lab.labels)
    scores = [
        (label, float(prediction.scores[label]))
        for label in labels
        if isinstance(prediction.scores, dict) and label in prediction.scores
    ]
    return TryItView(
        prediction=prediction,
        stale=not prediction.is_finished and age > TRY_IT_STALE_S,
        scores=sorted(scores, key=lambda kv: -kv[1]),
    )


@require_POST
@htmx_login_required
def tryit_create(request: HttpRequest, submission_id: int) -> HttpResponse:
    submission, _role = selectors.submission_get(user=request.user, submission_id=submission_id)
    form = TryItForm(request.POST)
    try:
        if not form.is_valid():
            raise ApplicationError("invalid_input", _form_error_message(form))
        prediction = services.tryit_create(
            submission=submission, actor=request.user, text=form.cleaned_data["text"]
        )
    except ApplicationError as exc:
        if exc.status_code == 404:
            raise
        if is_htmx(request):
            response = render(
                request, "labs/_upload_error.html", {"error": exc}, status=exc.status_code
            )
            response["HX-Retarget"] = "#try-it-errors"
            response["HX-Reswap"] = "innerHTML"
            return response
        messages.error(request, exc.message)
        return redirect("labs:submission-detail", submission_id=submission.pk)
    if is_htmx(request):
        return render(
            request,
            "labs/_tryit_item.html",
            {"item": _tryit_view(prediction), "clear_errors": True},
        )
    messages.success(request, "Sent: the prediction appears below in a few seconds.")
    return redirect("labs:submission-detail", submission_id=submission.pk)


@never_cache
@require_GET
@htmx_login_required
def tryit_item(request: HttpRequest, prediction_id: int) -> HttpResponse:
    prediction = selectors.tryit_get(user=request.user, prediction_id=prediction_id)
    return render(request, "labs/_tryit_item.html", {"item": _tryit_view(prediction)})


# --- Leaderboard -------------------------------------------------------------------------------


@require_GET
@login_required
def leaderboard(request: HttpRequest, lab_id: int) -> HttpResponse:
    """As the API: the public part until the lab closes, then the private part with each row's
    public rank (the shake-up). Instructors may preview the private part early."""
    lab, role = selectors.lab_get(user=request.user, lab_id=lab_id)
    form = LeaderboardForm(request.GET)
    requested = form.cleaned_data.get("part") if form.is_valid() else None
    closed = selectors.lab_is_closed(lab=lab)
    part = selectors.leaderboard_part(lab=lab, role=role, requested=requested)
    rows = selectors.leaderboard(lab=lab, part=part, viewer=request.user)
    context = {
        "reference": selectors.leaderboard_reference(lab=lab, part=part, rows=rows),
        "lab": lab,
        "course": lab.session.course,
        "is_staff": is_staff_role(role),
        "part": part,
        "closed": closed,
        "rows": rows,
        "moves": {row.student_id: _move(row) for row in rows},
    }
    return render(request, "labs/leaderboard.html", context)


@require_GET
@never_cache
@login_required
def baseline_progress_fragment(request: HttpRequest, lab_id: int) -> HttpResponse:
    """The demo baseline's progress card, polled by the lab page while it trains."""
    lab, _role = selectors.lab_get(user=request.user, lab_id=lab_id)
    context = {"lab": lab, "baseline": baseline_progress(lab)}
    return render(request, "labs/_baseline_progress.html", context)


def _move(row: selectors.LeaderboardRow) -> int | None:
    """Places gained (+) or lost (-) from the public to the private ranking."""
    if row.public_rank is None:
        return None
    return row.public_rank - row.rank


# --- Instructors: create and edit a lab, the held-out dataset ------------------------------


def _apply_validation_error(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            target = name if name in form.fields else None
            for error in errors:
                form.add_error(target, error)
    else:
        form.add_error(None, exc)


@require_http_methods(["GET", "POST"])
@login_required
def lab_create(request: HttpRequest, code: str, number: int) -> HttpResponse:
    session = selectors.session_get_for_new_lab(user=request.user, code=code, number=number)
    course = session.course
    form = LabForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            lab = services.lab_create(actor=request.user, session=session, **form.lab_fields())
        except ValidationError as exc:
            _apply_validation_error(form, exc)
        else:
            messages.success(request, f"Created “{lab.title}”. Next: upload its held-out dataset.")
            return redirect("labs:dataset", lab_id=lab.pk)
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "course": course, "session": session, "lab": None}
    return render(request, "labs/lab_form.html", context, status=status)


@require_http_methods(["GET", "POST"])
@login_required
def lab_edit(request: HttpRequest, lab_id: int) -> HttpResponse:
    lab = _instructor_lab(request, lab_id)
    form = LabForm(request.POST or None, initial=LabForm.initial_for(lab))
    if request.method == "POST" and form.is_valid():
        try:
            lab = services.lab_update(lab=lab, actor=request.user, **form.lab_fields())
        except ValidationError as exc:
            _apply_validation_error(form, exc)
        except ApplicationError as exc:
            if exc.denies_access:
                raise
            form.add_error("labels" if exc.code == "labels_locked" else None, exc.message)
        else:
            messages.success(request, f"Saved “{lab.title}”.")
            return redirect("labs:lab-detail", lab_id=lab.pk)
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "course": lab.session.course, "session": lab.session, "lab": lab}
    return render(request, "labs/lab_form.html", context, status=status)


_ROWS_RE = re.compile(r"\brows?\s*\(?((?:\d+(?:,\s*|\s+and\s+\d+\s+more)?)+)\)?")


def _rows_named(message: str) -> list[str]:
    """The row numbers a dataset error names ("rows 3, 7 and 2 more" -> ["3", "7"])."""
    found = []
    for match in _ROWS_RE.finditer(message):
        for number in re.findall(r"\d+(?!\s+more)", match.group(1)):
            if number not in found:
                found.append(number)
    return found


@csrf_exempt  # CSRF checked by _dataset_upload, after the size check (see submission_create)
@require_http_methods(["GET", "POST"])
@login_required
def dataset_upload(request: HttpRequest, lab_id: int) -> HttpResponse:
    """Upload (or replace: a new version) the held-out set; optionally re-grade everything."""
    lab = _instructor_lab(request, lab_id)
    if request.method == "POST":
        try:
            uploads.upload_check_length(lab=lab, request=request, kind="dataset")
        except ApplicationError as exc:
            return _dataset_page(request, lab, DatasetUploadForm(), exc, status=exc.status_code)
    return _dataset_upload(request, lab)


@csrf_protect
def _dataset_upload(request: HttpRequest, lab: Lab) -> HttpResponse:
    form = DatasetUploadForm(request.POST or None, request.FILES or None)
    error = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["dataset"]
        try:
            dataset = services.heldout_dataset_create(
                lab=lab, actor=request.user, upload=upload, filename=upload.name or "heldout.csv"
            )
        except ApplicationError as exc:
            error = exc
        else:
            text = f"Uploaded held-out set version {dataset.version}: {dataset.row_count} rows."
            if form.cleaned_data["regrade"]:
                count = services.lab_regrade(lab=lab, actor=request.user)
                text += f" Re-grading {count} scored submission{'s' if count != 1 else ''}."
            messages.success(request, text)
            return redirect("labs:dataset", lab_id=lab.pk)
    status = 200 if request.method != "POST" else (error.status_code if error else 400)
    return _dataset_page(request, lab, form, error, status=status)


def _dataset_page(
    request: HttpRequest,
    lab: Lab,
    form: DatasetUploadForm,
    error: ApplicationError | None,
    *,
    status: int,
) -> HttpResponse:
    context = {
        "lab": lab,
        "course": lab.session.course,
        "form": form,
        "error": error,
        "error_rows": _rows_named(error.message) if error else [],
        "datasets": list(lab.datasets.order_by("-version")),
        "scored_count": lab.submissions.filter(status=Submission.Status.SCORED).count(),
    }
    return render(request, "labs/dataset.html", context, status=status)


# --- Instructors: dashboard, per student, CSV, re-grade, cancel ----------------------------


@require_GET
@login_required
def results_csv(request: HttpRequest, lab_id: int) -> HttpResponse:
    lab, _role = _staff_lab(request, lab_id)
    scope = _scope(request, lab)
    columns, rows = selectors.lab_results_table(lab=lab, scope=scope)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([spreadsheet_cell(value) for value in row])
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    suffix = f"-section-{slugify(scope.section)}" if scope.section else ""
    filename = f"{lab.session.course.code}-lab-{lab.pk}-results{suffix}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _live_context(lab: Lab, scope: students.StudentScope) -> dict[str, Any]:
    now = timezone.now()
    return {
        "lab": lab,
        "scope": scope,
        "stats": selectors.lab_dashboard(lab=lab, now=now, scope=scope),
        "stall": selectors.grading_stalled(now=now),
        "hosts": selectors.worker_host_list(course=lab.session.course, now=now),
        "baseline": baseline_progress(lab),
        "now": now,
    }


@require_GET
@login_required
def dashboard(request: HttpRequest, lab_id: int) -> HttpResponse:
    lab, role = _staff_lab(request, lab_id)
    scope = _scope(request, lab)
    filters = SubmissionFilterForm(request.GET)
    chosen = filters.cleaned_data if filters.is_valid() else {}
    queryset = selectors.submission_filter(
        lab=lab,
        status=chosen.get("status") or None,
        error_code=chosen.get("error") or None,
        student_id=chosen.get("student"),
        scope=scope,
    ).select_related("lab")
    page = Paginator(queryset, DASHBOARD_PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    live = _live_context(lab, scope)
    stats = live["stats"]
    context = {
        **live,
        "course": lab.session.course,
        "is_instructor": is_instructor(role),  # edit and held-out dataset buttons
        "chart_data": _chart_data(lab, stats),
        "histogram_rows": list(
            zip(
                stats.score_histogram["labels"],
                stats.score_histogram["public"],
                stats.score_histogram["private"],
                strict=True,
            )
        ),
        "filters": filters,
        "chosen": chosen,
        "page": page,
        "cards": _cards(list(page.object_list), lab, role, now=now),
        "students": selectors.lab_submitters(lab=lab, scope=scope),
        "extensions": list(selectors.lab_extension_list(lab=lab)),
        "extension_students": selectors.lab_students(lab=lab, scope=scope),
        "error_codes": selectors.lab_error_codes(lab=lab),
        "statuses": Submission.Status.choices,
        "query": _query_without_page(request),
    }
    return render(request, "labs/dashboard.html", context)


def _chart_data(lab: Lab, stats: selectors.LabDashboard) -> dict[str, Any]:
    """What static/js/labs.js draws (Chart.js, served locally)."""
    return {
        "metric": lab.get_primary_metric_display(),
        "histogram": stats.score_histogram,
        "best": stats.best_over_time,
        "days": {
            "labels": [d.day.isoformat() for d in stats.days],
            "scored": [d.scored for d in stats.days],
            "failed": {
                code: [d.failed.get(code, 0) for d in stats.days] for code in stats.error_codes
            },
            "cancelled": [d.cancelled for d in stats.days],
        },
    }


def _query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@never_cache
@require_GET
@htmx_login_required
def dashboard_live(request: HttpRequest, lab_id: int) -> HttpResponse:
    """The queue and the workers, refreshed every few seconds on the dashboard."""
    lab, _role = _staff_lab(request, lab_id)
    return render(request, "labs/_dashboard_live.html", _live_context(lab, _scope(request, lab)))


def _in_section(scope: students.StudentScope, student) -> bool:
    """A teaching assistant held to a section (or a `?section=` link) opens only that
    section's students; an unenrolled student's page stays open to the whole-course staff."""
    if not scope.section:
        return True
    return scope.filter(get_user_model().objects.filter(pk=student.pk), "pk").exists()


@require_GET
@login_required
def student_detail(request: HttpRequest, lab_id: int, user_id: int) -> HttpResponse:
    lab, role = _staff_lab(request, lab_id)
    users = get_user_model().objects
    student = (
        users.filter(pk=user_id, memberships__course=lab.session.course).first()
        or users.filter(pk=user_id, lab_submissions__lab=lab).first()
    )
    if student is None or not _in_section(_scope(request, lab), student):
        raise NotFoundError(f"No student {user_id} in this lab.")
    now = timezone.now()
    submissions = selectors.submission_filter(lab=lab, student_id=student.pk).select_related("lab")
    extension = selectors.lab_extension_get(lab=lab, student=student)
    context = {
        "lab": lab,
        "course": lab.session.course,
        "student": student,
        "quota": selectors.quota_status(lab=lab, student=student, now=now),
        "best_public": selectors.submission_best(lab=lab, student=student, part="public"),
        "best_private": selectors.submission_best(lab=lab, student=student, part="private"),
        "cards": _cards(list(submissions), lab, role, now=now),
        "is_instructor": is_instructor(role),  # the extension form
        "student_extensions": [extension] if extension else [],
    }
    return render(request, "labs/student_detail.html", context)


def _extension_back(request: HttpRequest, lab: Lab, student_id: int | None) -> HttpResponse:
    if student_id and request.POST.get("back") == "student":
        return redirect("labs:student-detail", lab_id=lab.pk, user_id=student_id)
    return redirect(reverse("labs:dashboard", args=[lab.pk]) + "#extensions")


def _extension_student(user_id: int):
    student = get_user_model().objects.filter(pk=user_id).first()
    if student is None:
        raise NotFoundError(f"No student {user_id}.")
    return student


@require_POST
@login_required
def extension_set(request: HttpRequest, lab_id: int) -> HttpResponse:
    """Set (or replace) one student's deadline extension, from the dashboard or their page."""
    lab = _instructor_lab(request, lab_id)
    form = LabExtensionForm(request.POST)
    student_id = form.data.get("student")
    student_id = int(student_id) if str(student_id or "").isdigit() else None
    try:
        if not form.is_valid():
            raise ApplicationError("invalid_input", _form_error_message(form))
        student = _extension_student(form.cleaned_data["student"])
        extension = services.lab_extension_set(
            actor=request.user,
            lab=lab,
            student=student,
            closes_at=form.cleaned_data["closes_at"],
            reason=form.cleaned_data["reason"],
        )
    except ApplicationError as exc:
        if exc.denies_access:
            raise
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            f"{student.get_username()} may submit until "
            f"{timezone.localtime(extension.closes_at):%a %d %b %Y, %H:%M}.",
        )
    return _extension_back(request, lab, student_id)


@require_POST
@login_required
def extension_delete(request: HttpRequest, lab_id: int, user_id: int) -> HttpResponse:
    lab = _instructor_lab(request, lab_id)
    student = _extension_student(user_id)
    try:
        removed = services.lab_extension_delete(actor=request.user, lab=lab, student=student)
    except ApplicationError as exc:
        if exc.denies_access:
            raise
        messages.error(request, exc.message)
    else:
        if removed:
            messages.success(request, f"Removed {student.get_username()}'s extension.")
        else:
            messages.info(request, f"{student.get_username()} had no extension.")
    return _extension_back(request, lab, user_id)


@require_POST
@login_required
def lab_regrade(request: HttpRequest, lab_id: int) -> HttpResponse:
    lab, _role = selectors.lab_get(user=request.user, lab_id=lab_id)
    try:
        count = services.lab_regrade(lab=lab, actor=request.user)
    except ApplicationError as exc:
        if exc.denies_access:
            raise
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            f"Re-grading {count} scored submission{'s' if count != 1 else ''} on the "
            "low-priority queue; current results stay until the new ones are in.",
        )
    return redirect("labs:dashboard", lab_id=lab.pk)


@require_POST
@login_required
def submission_cancel(request: HttpRequest, submission_id: int) -> HttpResponse:
    submission, _role = selectors.submission_get(user=request.user, submission_id=submission_id)
    try:
        services.submission_cancel(submission=submission, actor=request.user)
    except ApplicationError as exc:
        if exc.denies_access:
            raise
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Cancelled submission {submission.pk}.")
    return redirect("labs:dashboard", lab_id=submission.lab_id)
