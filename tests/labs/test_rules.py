"""The lab phase: one rule for the upload service and every page that shows it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from labs import selectors
from labs.rules import LabPhase, lab_phase
from tests.factories import LabFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now()


@pytest.mark.parametrize(
    ("opens", "closes", "expected"),
    [
        (None, None, LabPhase.OPEN),
        (NOW + timedelta(hours=1), None, LabPhase.UPCOMING),
        (NOW - timedelta(hours=1), NOW + timedelta(hours=1), LabPhase.OPEN),
        (NOW - timedelta(hours=2), NOW - timedelta(hours=1), LabPhase.CLOSED),
        (None, NOW, LabPhase.CLOSED),  # closes_at itself is already closed
        (NOW, None, LabPhase.OPEN),  # opens_at itself is already open
    ],
)
def test_the_phase_follows_opens_at_and_closes_at(opens, closes, expected):
    lab = LabFactory(opens_at=opens, closes_at=closes)

    assert lab_phase(lab, NOW) == expected
    assert selectors.lab_phase(lab=lab, now=NOW) == expected.value
    assert selectors.lab_is_open(lab=lab, now=NOW) is (expected == LabPhase.OPEN)
    assert selectors.lab_is_closed(lab=lab, now=NOW) is (expected == LabPhase.CLOSED)
