"""The project's password hashers (accounts/hashers.py): Argon2id at a cost that meets OWASP's
minimums, with PBKDF2 hashes from before still accepted and upgraded at the next login.

The suite's autouse fixture swaps in MD5 for speed; these tests put the project's own list back.
"""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import get_hasher, identify_hasher, make_password
from django.urls import reverse

from accounts.hashers import OWASP_MIN_MEMORY_KIB, OWASP_MIN_TIME_COST
from config import settings as project_settings
from tests.factories import PASSWORD, UserFactory


@pytest.fixture
def project_hashers(settings):
    settings.PASSWORD_HASHERS = project_settings.PASSWORD_HASHERS
    return settings.PASSWORD_HASHERS


def test_the_default_hasher_is_argon2id_at_owasp_minimums_or_above(project_hashers):
    hasher = get_hasher("default")
    params = hasher.decode(hasher.encode(PASSWORD, hasher.salt()))
    assert params["algorithm"] == "argon2"
    assert params["variety"] == "argon2id"
    assert params["memory_cost"] >= OWASP_MIN_MEMORY_KIB == 19 * 1024
    assert params["time_cost"] >= OWASP_MIN_TIME_COST == 2
    assert params["parallelism"] == 1


def test_pbkdf2_stays_listed_so_existing_hashes_still_verify(project_hashers):
    assert "django.contrib.auth.hashers.PBKDF2PasswordHasher" in project_hashers


@pytest.mark.django_db
def test_a_pbkdf2_user_logs_in_and_their_hash_becomes_argon2(client, project_hashers):
    user = UserFactory(username="legacy")
    user.password = make_password(PASSWORD, hasher="pbkdf2_sha256")
    user.save(update_fields=["password"])

    response = client.post(reverse("login"), {"username": "legacy", "password": PASSWORD})

    assert response.status_code == 302
    stored = get_user_model().objects.get(pk=user.pk).password
    assert identify_hasher(stored).algorithm == "argon2"
    assert get_hasher("default").decode(stored)["memory_cost"] == 19 * 1024
    assert get_user_model().objects.get(pk=user.pk).check_password(PASSWORD)


@pytest.mark.django_db
def test_an_argon2_hash_with_other_parameters_is_re_hashed_at_login(client, project_hashers):
    user = UserFactory(username="heavy")
    # Django's stock Argon2 profile (m = 100 MiB, p = 8): same algorithm name, other costs.
    user.password = make_password(PASSWORD, hasher=get_hasher("default").__class__.__base__())
    user.save(update_fields=["password"])
    assert get_hasher("default").must_update(user.password)

    client.post(reverse("login"), {"username": "heavy", "password": PASSWORD})

    stored = get_user_model().objects.get(pk=user.pk).password
    assert not get_hasher("default").must_update(stored)
