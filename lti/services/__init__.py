"""Writes for the LTI app, one module per sub-domain; this package re-exports the public ones.

registration.py   platforms and deployments (site staff)
launch.py         OIDC login and launch: validation, accounts, course links, enrolment
deep_linking.py   content items with line items
grades.py         AGS score passback, and whether provisional scores are sent
roster.py         NRPS roster sync
"""

from lti.services.deep_linking import deep_link_prepare, deep_link_reply
from lti.services.grades import course_link_provisional_set, score_resend, scores_refresh
from lti.services.registration import (
    platform_deployment_add,
    platform_deployment_set_active,
    platform_register,
    platform_set_active,
    platform_update,
)
from lti.services.roster import roster_sync

__all__ = [
    "course_link_provisional_set",
    "deep_link_prepare",
    "deep_link_reply",
    "platform_deployment_add",
    "platform_deployment_set_active",
    "platform_register",
    "platform_set_active",
    "platform_update",
    "roster_sync",
    "score_resend",
    "scores_refresh",
]
