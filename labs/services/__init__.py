"""Lab writes, by sub-domain (see docs/architecture.md, "Labs"):

- `submissions`: uploads (a student's submission, an instructor's reference);
- `grading`: the lifecycle (claim, heartbeat, grade, record, cancel) and the sweeper;
- `datasets`: a lab's definition, its held-out dataset versions and re-grades;
- `tryit`: "Try it" predictions;
- `extensions`: per-student deadline extensions;
- `jobs`: the grading-job harness the worker side of the three above runs through.

The public names are re-exported here, so callers write `from labs import services` and
`services.submission_create(...)` wherever a service lives.
"""

from labs.services.datasets import (
    LAB_EDITABLE_FIELDS,
    heldout_dataset_create,
    lab_create,
    lab_regrade,
    lab_update,
    submission_regrade,
)
from labs.services.extensions import lab_extension_delete, lab_extension_set
from labs.services.grading import (
    MAX_ATTEMPTS,
    SweepReport,
    submission_cancel,
    submission_claim,
    submission_finish,
    submission_grade,
    submission_heartbeat,
    submissions_sweep,
)
from labs.services.jobs import GRADING_QUEUE, REGRADE_QUEUE
from labs.services.submissions import submission_create, submission_create_reference
from labs.services.tryit import (
    TRY_IT_MAX_CHARS,
    TRY_IT_MAX_LENGTH,
    TRY_IT_MAX_PENDING,
    TRY_IT_TIMEOUT_S,
    tryit_create,
    tryit_run,
)

__all__ = [
    "GRADING_QUEUE",
    "LAB_EDITABLE_FIELDS",
    "MAX_ATTEMPTS",
    "REGRADE_QUEUE",
    "TRY_IT_MAX_CHARS",
    "TRY_IT_MAX_LENGTH",
    "TRY_IT_MAX_PENDING",
    "TRY_IT_TIMEOUT_S",
    "SweepReport",
    "heldout_dataset_create",
    "lab_create",
    "lab_extension_delete",
    "lab_extension_set",
    "lab_regrade",
    "lab_update",
    "submission_cancel",
    "submission_claim",
    "submission_create",
    "submission_create_reference",
    "submission_finish",
    "submission_grade",
    "submission_heartbeat",
    "submission_regrade",
    "submissions_sweep",
    "tryit_create",
    "tryit_run",
]
