"""`/api/v1/courses/{code}/mastery/`: staff get the students-by-objectives matrix (from the
stored mastery), a student gets their own row with the evidence they may see."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import SECTION_PARAMETER, error_responses
from courseware import selectors as courseware_selectors
from courseware.permissions import is_staff_role
from gradebook import mastery_selectors
from gradebook.models import GradebookSettings, ObjectiveMastery


class EvidenceSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="quiz (an attempt), lab or homework.")
    source_id = serializers.IntegerField(help_text="The attempt, lab or homework task id.")
    label = serializers.CharField()
    score = serializers.FloatField(help_text="A fraction, 0..1.")
    provisional = serializers.BooleanField(help_text="A lab's public part before it closes.")
    observed_at = serializers.DateTimeField()


class CellSerializer(serializers.Serializer):
    objective_id = serializers.IntegerField()
    level = serializers.ChoiceField(choices=ObjectiveMastery.Level.choices)
    score = serializers.FloatField(allow_null=True)
    evidence_count = serializers.IntegerField()
    evidence = EvidenceSerializer(
        many=True, allow_null=True, help_text="The student's own request only (else null)."
    )


class RowSerializer(serializers.Serializer):
    user_id = serializers.IntegerField()
    username = serializers.CharField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    section = serializers.CharField()
    cells = CellSerializer(many=True, help_text="One per objective, in `objectives` order.")


class ObjectiveSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    session = serializers.IntegerField(help_text="The session number.")
    position = serializers.IntegerField()
    text = serializers.CharField()
    mastered = serializers.IntegerField(
        allow_null=True, help_text="Staff: how many listed students mastered it."
    )
    students = serializers.IntegerField(allow_null=True)
    percent_mastered = serializers.FloatField(allow_null=True)


def _settings(settings: GradebookSettings) -> dict:
    return {
        "method": settings.mastery_method,
        "weight": settings.mastery_weight,
        "n": settings.mastery_n,
        "threshold": settings.mastery_threshold,
        "near_margin": settings.mastery_near_margin,
    }


def _objective(o, summary=None) -> dict:
    return {
        "id": o.pk,
        "session": o.session.number,
        "position": o.position,
        "text": o.text,
        "mastered": summary.mastered if summary else None,
        "students": summary.students if summary else None,
        "percent_mastered": summary.percent if summary else None,
    }


def _person(user, section: str, cells: list[dict]) -> dict:
    return {
        "user_id": user.pk,
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "section": section,
        "cells": cells,
    }


def _staff_body(heatmap) -> dict:
    def cell(objective, stored):
        if stored is None:
            return {"objective_id": objective.pk, "level": "no_evidence", "score": None,
                    "evidence_count": 0, "evidence": None}  # fmt: skip
        return {"objective_id": objective.pk, "level": stored.level, "score": stored.score,
                "evidence_count": stored.evidence_count, "evidence": None}  # fmt: skip

    return {
        "course": heatmap.course.code,
        "settings": _settings(heatmap.settings),
        "objectives": [_objective(s.objective, s) for s in heatmap.summaries],
        "rows": [
            _person(
                row.student,
                row.section,
                [cell(o, c) for o, c in zip(heatmap.objectives, row.cells, strict=True)],
            )
            for row in heatmap.rows
        ],
    }


def _student_body(mine, user) -> dict:
    rows = [row for _session, session_rows in mine.sessions for row in session_rows]
    cells = [
        {
            "objective_id": row.objective.pk,
            "level": row.level,
            "score": row.score,
            "evidence_count": len(row.evidence),
            "evidence": row.evidence,
        }
        for row in rows
    ]
    return {
        "course": mine.course.code,
        "settings": _settings(mine.settings),
        "objectives": [_objective(row.objective) for row in rows],
        "rows": [_person(user, "", cells)],
    }


class MasteryApi(APIView):
    class OutputSerializer(serializers.Serializer):
        course = serializers.CharField()
        settings = serializers.DictField(
            help_text="method, weight, n, threshold, near_margin (fractions 0..1)."
        )
        objectives = ObjectiveSerializer(many=True)
        rows = RowSerializer(many=True, help_text="Staff: every listed student; a student: self.")

        class Meta:
            ref_name = "Mastery"

    @extend_schema(
        operation_id="mastery_retrieve",
        tags=["gradebook"],
        summary="Mastery of the course's learning objectives",
        description=(
            "Instructors and TAs: every current student (of `?section=`) by every objective, "
            "with each objective's share of the class at mastery. A student: their own row, "
            "with the evidence behind each level (quiz evidence only while the quiz's review "
            "options show marks)."
        ),
        parameters=[SECTION_PARAMETER],
        responses={200: OutputSerializer, **error_responses(400, 401, 403, 404)},
    )
    def get(self, request: Request, code: str) -> Response:
        _course, role = courseware_selectors.course_get(user=request.user, code=code)
        if is_staff_role(role):
            heatmap = mastery_selectors.mastery_heatmap(
                user=request.user, code=code, section=request.query_params.get("section", "")
            )
            body = _staff_body(heatmap)
        else:
            body = _student_body(
                mastery_selectors.my_objectives(user=request.user, code=code), request.user
            )
        return Response(self.OutputSerializer(body).data)
