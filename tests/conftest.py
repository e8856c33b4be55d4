import os
from pathlib import Path

import pytest
from django.test import override_settings

from courseware.models import Membership
from tests.factories import (
    CourseFactory,
    HomeworkTaskFactory,
    LearningObjectiveFactory,
    MembershipFactory,
    SessionFactory,
)

# Before anything imports torch: see labs/grading/__init__.py.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

FIXTURES = Path(__file__).parent / "fixtures"
SEED_DECK = FIXTURES / "decks" / "session-12-transformers.md"


@pytest.fixture(scope="session", autouse=True)
def _static_files_without_collectstatic(tmp_path_factory):
    """Without DEBUG (as the suite runs) production's manifest storage needs `collectstatic`
    first; the suite does not run it for every page it renders, so {% static %} gets the plain
    storage and WhiteNoise the source folders. tests/core/test_static_files.py runs
    collectstatic and serves the hashed files itself."""
    from django.conf import settings

    plain = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    with override_settings(
        STORAGES={**settings.STORAGES, "staticfiles": plain},
        WHITENOISE_USE_FINDERS=True,
        # An empty one: WhiteNoise warns about a STATIC_ROOT that does not exist.
        STATIC_ROOT=str(tmp_path_factory.mktemp("static-root")),
    ):
        yield


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Factories set a password on every user; the default PBKDF2 would dominate the suite.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session")
def s3_server_process(tmp_path_factory):
    """One real S3 server (tests/s3.py) for the whole session, started on first use. A test
    may stop() and start() it (objects are kept); it is running again when the test ends."""
    from tests.s3 import s3_server

    with s3_server(tmp_path_factory.mktemp("s3-server")) as server:
        yield server


@pytest.fixture
def s3_prefix() -> str:
    """The key prefix `s3_storage` puts a test's objects under: its own, so tests sharing the
    server never see each other's objects. A module whose worker outlives one test overrides
    it with a fixed prefix."""
    import uuid

    return f"t-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def s3_storage(s3_server_process, s3_prefix, settings, monkeypatch):
    """Switch this test's media and private storage to the S3 server (STORAGES, the lab
    models' FileFields, which hold their storage from import time, and the environment a worker
    started by the test inherits). Yields a tests.s3.S3TestStorage."""
    from django.core.files.storage import storages

    from labs.models import HeldOutDataset, Submission
    from tests.s3 import S3TestStorage, storages_for

    server = s3_server_process
    server.start()  # a no-op unless an earlier test left it stopped
    settings.STORAGES = {**settings.STORAGES, **storages_for(server, prefix=s3_prefix)}
    used = S3TestStorage(server=server, prefix=s3_prefix, private=storages["private"])
    for name, value in used.env().items():
        monkeypatch.setenv(name, value)
    for model, name in ((Submission, "artifact"), (HeldOutDataset, "file")):
        monkeypatch.setattr(model._meta.get_field(name), "storage", used.private)
    yield used
    server.start()


@pytest.fixture
def seed_deck_source() -> str:
    return SEED_DECK.read_text(encoding="utf-8")


@pytest.fixture
def course(db):
    return CourseFactory(code="ICTSS00120", title="Artificial Intelligence Skill Set")


@pytest.fixture
def other_course(db):
    return CourseFactory(code="OTHER101", title="Another course")


@pytest.fixture
def instructor(course):
    return MembershipFactory(course=course, role=Membership.Role.INSTRUCTOR).user


@pytest.fixture
def teaching_assistant(course):
    """Sees every student's work and marks it; changes no settings, quizzes, data or rosters."""
    return MembershipFactory(course=course, role=Membership.Role.TEACHING_ASSISTANT).user


@pytest.fixture
def student(course):
    return MembershipFactory(course=course, role=Membership.Role.STUDENT).user


@pytest.fixture
def other_student(other_course):
    """A student of a different course: must never see anything of `course`."""
    return MembershipFactory(course=other_course, role=Membership.Role.STUDENT).user


@pytest.fixture
def session12(course):
    session = SessionFactory(course=course, number=12, title="Introduction to Transformers")
    for i, text in enumerate(["Understand attention.", "Use pipeline()."], start=1):
        LearningObjectiveFactory(session=session, position=i, text=text)
    for i, text in enumerate(["Review the concepts.", "Explore the Hub."], start=1):
        HomeworkTaskFactory(session=session, position=i, text=text)
    return session
