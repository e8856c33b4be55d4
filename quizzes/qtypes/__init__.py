"""The question-type registry: one plug-in per type, as Moodle's `question/type/<name>/`.

Each module here handles one type end to end (validate its content, display it, read a
response, grade it, state the right answer, the attempt form's fields, GIFT export), with
its markup in templates/quizzes/qtypes/<code>.html. The generic modules look the plug-in up
with `get(content["type"])`. Adding a type: its module, its template, a line in REGISTRY
(see docs/quizzes.md, "Adding a question type"). GIFT *parsing* stays in quizzes.gift: which
type a block is follows from the grammar as a whole.
"""

from __future__ import annotations

from quizzes.qtypes.base import QuestionType
from quizzes.qtypes.description import Description
from quizzes.qtypes.essay import Essay
from quizzes.qtypes.matching import Matching
from quizzes.qtypes.multiple_choice import MultipleChoice
from quizzes.qtypes.numerical import Numerical
from quizzes.qtypes.short_answer import ShortAnswer
from quizzes.qtypes.single_choice import SingleChoice
from quizzes.qtypes.true_false import TrueFalse

#: Type code -> plug-in, in the order types are listed (the model's choices, the bank's
#: counts).
REGISTRY: dict[str, QuestionType] = {
    plugin.code: plugin
    for plugin in (
        SingleChoice(),
        MultipleChoice(),
        TrueFalse(),
        ShortAnswer(),
        Numerical(),
        Matching(),
        Essay(),
        Description(),
    )
}


def get(qtype: str) -> QuestionType:
    """The plug-in for a type code; KeyError for an unknown one (content is validated, so
    that is a bug, not bad input)."""
    return REGISTRY[qtype]
