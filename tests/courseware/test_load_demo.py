import pytest
from django.core.management import CommandError, call_command

from courseware.models import HomeworkCompletion, Membership, Session


@pytest.fixture
def demo_settings(settings, tmp_path):
    settings.DEBUG = True
    settings.VAR_DIR = tmp_path
    return settings


def _load(capsys) -> str:
    call_command("load_demo")
    return capsys.readouterr().out


@pytest.mark.django_db
def test_it_loads_session_12_one_instructor_and_three_students_and_prints_logins(
    demo_settings, capsys
):
    out = _load(capsys)

    session = Session.objects.get(course__code="ICTSS00120", number=12)
    assert session.title == "Introduction to Transformers and Hugging Face"
    assert session.homework.count() == 4
    roles = sorted(Membership.objects.values_list("role", flat=True))
    assert roles == ["instructor", "student", "student", "student"]
    for username in ("jordan.hill", "alex.chen", "sam.patel", "riley.nguyen"):
        assert username in out


@pytest.mark.django_db
def test_loading_twice_changes_nothing_and_keeps_the_logins(demo_settings, capsys):
    first = _load(capsys)
    completions = HomeworkCompletion.objects.count()

    second = _load(capsys)

    assert first == second
    assert Session.objects.count() == 1
    assert Membership.objects.count() == 4
    assert HomeworkCompletion.objects.count() == completions


@pytest.mark.django_db
def test_printed_password_logs_the_user_in(demo_settings, capsys, client):
    out = _load(capsys)
    line = next(line for line in out.splitlines() if "alex.chen" in line)
    password = line.split()[-1]

    assert client.login(username="alex.chen", password=password)


@pytest.mark.django_db
def test_it_refuses_to_run_without_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="only runs with DEBUG=1"):
        call_command("load_demo")
    assert not Session.objects.exists()
