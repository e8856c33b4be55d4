"""Template helpers for the lab pages: instructions as sanitised markdown, metrics, the
confusion-matrix heatmap, fix-it hints per error code and the labs box on a session page."""

from __future__ import annotations

import re
from typing import Any

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

from core.sanitize import INSTRUCTIONS, markdown_parser
from courseware.permissions import is_instructor, is_staff_role
from labs import selectors
from labs.grading.artifact import LABEL_RULE
from labs.models import Lab

register = template.Library()

_HEADING = re.compile(r"<(/?)h([1-6])>")

METRIC_LABELS = dict(Lab.Metric.choices)

#: How to fix each grading error (docs/labs.md), shown under the grader's own message.
ERROR_FIXES = {
    "invalid_archive": "Zip the folder written by save_pretrained (a .zip or .tar.gz) and "
    "upload that.",
    "unsafe_archive": "Zip plain files only: no absolute paths, “..”, links or device files.",
    "too_large": "Leave out checkpoints and optimizer states: keep only the save_pretrained files.",
    "unsafe_weights": "Save with `model.save_pretrained(folder)` (it writes "
    "`model.safetensors`) and upload only .safetensors weights, never .bin/.pt/.pkl.",
    "missing_files": "The archive needs config.json, the .safetensors weights and the tokenizer: "
    "call tokenizer.save_pretrained(same_folder) too.",
    "remote_code": "Use a standard architecture: no auto_map, no .py files, no custom code.",
    "unsupported_model": "Load and save the model with AutoModelForSequenceClassification.",
    "label_mismatch": LABEL_RULE,
    "load_failed": "Check that the folder loads locally with AutoTokenizer and "
    "AutoModelForSequenceClassification .from_pretrained(folder).",
    "timeout": "Submit a smaller model (a distilled or mini variant) or a shorter max_length.",
    "out_of_memory": "Submit a smaller model (fewer or narrower layers).",
    "internal": "Our fault, not yours: this attempt is not charged to your quota. Submit again.",
    "invalid_dataset": "The held-out set is unusable: tell your instructor.",
}


@register.filter
def lab_md(text: str | None) -> SafeString:
    """A lab's instructions (markdown) as sanitised HTML: raw HTML is escaped, then nh3 keeps
    an allow-list of tags; links get rel=noopener noreferrer nofollow."""
    if not text:
        return mark_safe("")
    cleaned = INSTRUCTIONS.clean(markdown_parser("table", "strikethrough").render(str(text)))
    # The page's own headings are h1/h2: an instruction's "# Task" becomes an h3, and so on.
    cleaned = _HEADING.sub(lambda m: f"<{m[1]}h{min(int(m[2]) + 2, 6)}>", cleaned)
    return mark_safe(cleaned)  # noqa: S308 - sanitised by nh3 with an allow-list


@register.filter
def score(value: Any) -> str:
    """A metric in [0, 1] with three decimals; an en dash when missing."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "\u2013"
    return f"{value:.3f}"


@register.filter
def metric_label(name: str) -> str:
    return METRIC_LABELS.get(name, name)


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    if isinstance(mapping, dict):
        return mapping.get(key)
    return None


@register.simple_tag
def label_rule() -> str:
    return LABEL_RULE


@register.filter
def error_fix(code: str | None) -> str:
    return ERROR_FIXES.get(code or "", "")


_INLINE_CODE = re.compile(r"`([^`\n]+)`")


@register.filter
def inline_code(text: str | None) -> SafeString:
    """A grader or service message (plain text with Markdown `code` spans, as the API sends
    it) as HTML: escaped, with each `span` in <code>. Nothing else of Markdown is rendered."""
    escaped = str(conditional_escape(text or ""))
    return mark_safe(_INLINE_CODE.sub(r"<code>\1</code>", escaped))  # noqa: S308 - escaped above


@register.filter
def seconds(value: Any) -> str:
    """0.4 s, 12 s, 3 min 05 s, 1 h 02 min; an en dash when missing."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "\u2013"
    if value < 10:
        return f"{value:.1f} s"
    total = round(value)
    if total < 60:
        return f"{total} s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


@register.filter
def megabytes(value: Any) -> str:
    if not isinstance(value, int | float):
        return "\u2013"
    if value < 1024 * 1024:
        return f"{value / 1024:.0f} KB" if value >= 1024 else f"{value:.0f} bytes"
    mb = value / (1024 * 1024)
    return f"{mb:.1f} MB" if mb < 10 else f"{mb:,.0f} MB"


@register.filter
def percent(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "\u2013"
    return f"{value * 100:.0f}%"


@register.filter
def absolute(value: Any) -> Any:
    return abs(value) if isinstance(value, int | float) else value


@register.filter
def grading_time(submission) -> float | None:
    """Seconds from a worker's claim to the result (None while unfinished or if cancelled)."""
    if submission.status not in ("scored", "failed"):
        return None
    if not (submission.started_at and submission.finished_at):
        return None
    return (submission.finished_at - submission.started_at).total_seconds()


@register.simple_tag
def confusion(metrics: Any, labels: list[str]) -> dict | None:
    """The confusion matrix of a metrics dict as heatmap rows: each cell has its count and its
    share of the true label's row (the colour), plus the row total. None when absent."""
    if not isinstance(metrics, dict):
        return None
    matrix = metrics.get("confusion_matrix")
    if not isinstance(matrix, list) or len(matrix) != len(labels):
        return None
    rows = []
    for i, (label, row) in enumerate(zip(labels, matrix, strict=True)):
        if not isinstance(row, list) or len(row) != len(labels):
            return None
        total = sum(int(v) for v in row)
        cells = [
            {
                "count": int(v),
                "share": (int(v) / total) if total else 0.0,
                "correct": j == i,
                "predicted": labels[j],
            }
            for j, v in enumerate(row)
        ]
        rows.append({"label": label, "total": total, "cells": cells})
    return {"labels": labels, "rows": rows, "size": len(labels)}


@register.simple_tag
def per_class(metrics: Any, labels: list[str]) -> list[dict]:
    if not isinstance(metrics, dict) or not isinstance(metrics.get("per_class"), dict):
        return []
    table = metrics["per_class"]
    return [{"label": label, **(table.get(label) or {})} for label in labels if label in table]


@register.inclusion_tag("labs/_session_labs.html", takes_context=True)
def session_labs(context, session) -> dict[str, Any]:
    """The session's labs for the session page (the page already checked membership)."""
    role = context.get("role")
    staff = is_staff_role(role)
    request = context["request"]
    items = []
    for lab in selectors.session_labs(session=session):
        item: dict[str, Any] = {"lab": lab, "phase": selectors.lab_phase(lab=lab)}
        if not staff and request.user.is_authenticated:
            item["quota"] = selectors.quota_status(lab=lab, student=request.user)
        items.append(item)
    return {
        "items": items,
        "session": session,
        "course": session.course,
        "is_instructor": is_instructor(role),  # "New lab"
        "is_staff": staff,  # the dashboard links
    }
