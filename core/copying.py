"""Copying a row into another offering: the settings it carries, never its identity."""

from __future__ import annotations

import copy
from typing import Any

from django.db import models


def copied_fields(obj: models.Model, *, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """The plain values of `obj` a copy starts from: every concrete editable field except the
    primary key and relations (the caller points those at the new rows). Non-editable
    fields (`created_at`, a lab's salt) are left to their defaults, so a copy is new.

    Listing fields by introspection means a setting added to a model later is copied too."""
    return {
        # deepcopy: a JSON value (review options, labels) must not be shared with the source.
        f.name: copy.deepcopy(getattr(obj, f.attname))
        for f in obj._meta.concrete_fields
        if f.editable and not f.primary_key and not f.is_relation and f.name not in skip
    }
