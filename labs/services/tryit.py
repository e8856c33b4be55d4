""" "Try it": one sentence through a scored submission's model, on a worker, in the sandbox."""

from __future__ import annotations

import math
from datetime import timedelta
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from core.actors import is_system
from core.exceptions import ApplicationError, NotFoundError
from courseware.permissions import Actor, is_staff_role, require_member, require_writable
from labs.models import Submission, TryItPrediction
from labs.services.jobs import (
    GradingJob,
    JobOutcome,
    copy_artifact,
    enqueue_try_it,
    grading_job_run,
)

TRY_IT_TIMEOUT_S = 30
TRY_IT_MAX_CHARS = 1000
TRY_IT_MAX_PENDING = 3
TRY_IT_MAX_LENGTH = 256  # tokens


def _check_may_try(submission: Submission, actor: Actor) -> None:
    """The submission's student, or the course's teaching staff; anyone else gets not found.
    A prediction is stored as someone's request, so SYSTEM (nobody) may not ask for one."""
    missing = NotFoundError(f"No submission {submission.pk}.")
    if is_system(actor):
        raise missing
    try:
        role = require_member(user=actor, course=submission.lab.session.course)
    except NotFoundError:
        raise missing from None
    if not is_staff_role(role) and submission.student_id != actor.pk:
        raise missing
    require_writable(actor=actor, course=submission.lab.session.course)


def _clean_text(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ApplicationError("invalid_input", "Type a sentence for the model to classify.")
    if len(text) > TRY_IT_MAX_CHARS:
        raise ApplicationError(
            "invalid_input",
            f"The text is {len(text)} characters long; try at most {TRY_IT_MAX_CHARS}.",
        )
    return text


@transaction.atomic
def tryit_create(*, submission: Submission, actor: Actor, text: str) -> TryItPrediction:
    """Queue one sentence for a scored submission's model."""
    _check_may_try(submission, actor)
    if submission.status != Submission.Status.SCORED:
        raise ApplicationError(
            "not_scored",
            f"Submission {submission.pk} is {submission.status}: only a scored model can be tried.",
            status_code=409,
        )
    text = _clean_text(text)
    pending = TryItPrediction.objects.filter(
        requested_by=actor,
        status__in=[TryItPrediction.Status.QUEUED, TryItPrediction.Status.RUNNING],
        created_at__gte=timezone.now() - timedelta(minutes=5),
    ).count()
    if pending >= TRY_IT_MAX_PENDING:
        raise ApplicationError(
            "too_many_requests",
            f"You have {pending} predictions waiting; try again when they have finished.",
            status_code=429,
        )
    prediction = TryItPrediction.objects.create(
        submission=submission, requested_by=actor, text=text
    )
    enqueue_try_it(prediction.pk)
    return prediction


def _tryit_predict_in_child(model_dir: str, text: str, label_order: list[int], max_length: int):
    from labs.grading.inference import predict

    result = predict(Path(model_dir), [text], label_order=label_order, max_length=max_length)
    return {"pred": result.pred, "logits": result.logits}


def _softmax(logits: list[float]) -> list[float]:
    top = max(logits)
    exps = [math.exp(v - top) for v in logits]
    total = sum(exps)
    return [v / total for v in exps]


class _TryItJob(GradingJob):
    """The submission's archive goes through the same static checks as grading, then the model
    runs in the sandbox with a short time limit."""

    kind = "tryit"
    internal_message = "The prediction failed on our side; try again in a moment."

    def claim(self) -> bool:
        claimed = TryItPrediction.objects.filter(
            pk=self.job_id, status=TryItPrediction.Status.QUEUED
        ).update(status=TryItPrediction.Status.RUNNING, started_at=timezone.now())
        if claimed != 1:
            return False
        self.prediction = TryItPrediction.objects.select_related("submission__lab").get(
            pk=self.job_id
        )
        return True

    def submission_id(self) -> int:
        return self.prediction.submission_id

    def run(self, workdir: Path) -> dict:
        from labs.grading.archive import ArchiveLimits
        from labs.grading.artifact import prepare_artifact
        from labs.grading.sandbox import SandboxLimits, run_isolated, warm_up

        submission = self.prediction.submission
        lab = submission.lab
        labels = list(lab.labels)
        warm_up()
        check = prepare_artifact(
            copy_artifact(submission, workdir),
            workdir,
            lab_labels=labels,
            limits=ArchiveLimits(max_upload_bytes=lab.max_upload_bytes),
        )
        result = run_isolated(
            _tryit_predict_in_child,
            str(check.model_dir),
            self.prediction.text,
            list(check.label_order),
            TRY_IT_MAX_LENGTH,
            limits=SandboxLimits(timeout_s=TRY_IT_TIMEOUT_S, memory_bytes=lab.grading_memory_bytes),
        )
        probabilities = _softmax([float(v) for v in result["logits"][0]])
        return {
            "label": labels[int(result["pred"][0])],
            "scores": {name: p for name, p in zip(labels, probabilities, strict=True)},
        }

    def record(self, outcome: JobOutcome) -> str:
        if outcome.error is None:
            fields = {"status": TryItPrediction.Status.DONE, **outcome.result}
        else:
            fields = {
                "status": TryItPrediction.Status.FAILED,
                "error_code": outcome.error.code.value,
                "error_message": outcome.error.message,
            }
        TryItPrediction.objects.filter(
            pk=self.job_id, status=TryItPrediction.Status.RUNNING
        ).update(**fields, finished_at=timezone.now())
        return fields["status"]


def tryit_run(*, prediction_id: int, worker: str = "") -> str:
    """Run one "Try it" prediction (on a worker). Returns its status, or why it was skipped.
    `worker`: the Celery node name, whose dashboard row shows the job while it runs."""
    return grading_job_run(_TryItJob(prediction_id, worker=worker))
