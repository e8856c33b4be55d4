"""The `/api/v1/` quizzes API, one module per resource: `quizzes` (list, detail), `attempts`
(start, read, answer, submit, review), `results` (results table, statistics), `essays`
(marking queue, mark) and `regrade`; `serializers` holds what they share.

One view per operation. A view validates its input, calls a selector or a service and
serializes the result; membership and role rules live in the selectors and the services
(through `courseware.permissions`), so a non-member gets 404 `not_found` and a wrong role 403
`permission_denied`. What a student may see of an attempt is decided by
`selectors.attempt_display` (never answers) and `selectors.attempt_review` (the quiz's review
options); the serializers only declare the keys those may return, so nothing else can leak
through them.
"""
