"""The question-type registry: one complete plug-in for every type a question can have."""

import inspect
import random
from typing import Any

import pytest
from django.template.loader import get_template

from quizzes import qtypes
from quizzes.content import QUESTION_TYPE_LABELS, validate_content
from quizzes.models import Question
from quizzes.qtypes.base import QuestionType
from tests.quizzes.conftest import CONTENT

HOOKS = QuestionType.__abstractmethods__

# A response in display form (what a client sends) per answerable type, for the round trip.
DISPLAY_RESPONSES = {
    "single_choice": {"choice": 2},
    "multiple_choice": {"choices": [0, 2]},
    "true_false": {"value": False},
    "short_answer": {"text": "Transformers"},
    "numerical": {"value": "3,14"},
    "matching": {"matches": {"0": 3, "2": 1}},
    "essay": {"text": "Because it attends."},
}


def test_the_registry_has_a_plugin_for_every_question_type():
    model_types = {code for code, _ in Question._meta.get_field("qtype").choices}

    assert set(qtypes.REGISTRY) == model_types
    # The sample content the quiz tests use covers every type too.
    assert set(CONTENT) == model_types


def test_the_protocol_names_every_hook():
    assert {
        "validate",
        "regrade_blocker",
        "make_order",
        "display",
        "is_blank",
        "read_response",
        "response_to_display",
        "grade",
        "right_answer",
        "form_fields",
        "form_response",
        "gift_block",
    } == HOOKS


@pytest.mark.parametrize("code", sorted(qtypes.REGISTRY))
def test_each_plugin_implements_every_hook(code):
    plugin = qtypes.get(code)

    assert not inspect.isabstract(type(plugin))
    for hook in HOOKS:
        assert callable(getattr(plugin, hook)), hook
        assert getattr(type(plugin), hook) is not getattr(QuestionType, hook), hook
    assert plugin.code == code
    assert plugin.label == QUESTION_TYPE_LABELS[code] and plugin.label
    assert plugin.template == f"quizzes/qtypes/{code}.html"
    get_template(plugin.template)  # raises TemplateDoesNotExist when missing


def test_a_plugin_missing_a_hook_cannot_be_registered():
    class Incomplete(QuestionType):
        code = "incomplete"
        label = "Incomplete"
        template = "quizzes/qtypes/incomplete.html"

    with pytest.raises(TypeError, match="abstract"):
        Incomplete()


def test_an_unknown_type_has_no_plugin():
    with pytest.raises(KeyError):
        qtypes.get("cloze")


def test_only_a_description_has_nothing_to_answer():
    assert [code for code, p in qtypes.REGISTRY.items() if not p.answerable] == ["description"]


@pytest.mark.parametrize("code", sorted(DISPLAY_RESPONSES))
def test_a_response_read_from_display_shows_as_it_was_sent(code):
    content = validate_content(CONTENT[code]())
    plugin = qtypes.get(code)
    order = plugin.make_order(content, shuffle=True, rng=random.Random(7))
    sent: dict[str, Any] = DISPLAY_RESPONSES[code]

    canonical = plugin.read_response(content, order, sent)

    assert canonical is not None and not plugin.is_blank(canonical)
    assert plugin.response_to_display(content, order, canonical) == sent


@pytest.mark.parametrize("code", sorted(DISPLAY_RESPONSES))
def test_a_form_reads_back_what_the_fields_name(code):
    content = validate_content(CONTENT[code]())
    plugin = qtypes.get(code)
    order = plugin.make_order(content, shuffle=False, rng=random.Random(0))
    question = plugin.display(content, order)
    fields = plugin.form_fields(question)
    cleaned = {key: field.clean(field.to_python(None)) for key, field in fields.items()}

    assert fields
    assert plugin.form_response(question, cleaned) is None  # every field empty: no answer
