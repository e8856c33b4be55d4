"""Account services: who may call them, what they store and what they email."""

from __future__ import annotations

import time
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.core import mail

from accounts import selectors, services
from accounts.models import Profile
from core.actors import SYSTEM
from core.exceptions import ApplicationError, PermissionDeniedError
from tests.accounts.conftest import last_link
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db
User = get_user_model()


class Anonymous:
    is_authenticated = False
    pk = None


def test_account_create_derives_a_unique_username_from_the_email(ada):
    first = services.account_create(actor=SYSTEM, email="Ada.L@Example.edu")
    second = services.account_create(actor=SYSTEM, email="ada.l@other.edu")
    third = services.account_create(actor=SYSTEM, email="ada@uni.edu")  # "ada" is taken

    assert (first.username, second.username, third.username) == ("ada.l", "ada.l2", "ada2")
    assert first.email == "Ada.L@example.edu"  # the domain is lower-cased, the name kept


def test_a_new_account_has_no_usable_password_and_a_profile():
    user = services.account_create(
        actor=SYSTEM, email="linus@example.edu", first_name=" Linus ", student_id="s123"
    )

    assert not user.has_usable_password()
    assert user.first_name == "Linus"
    assert Profile.objects.get(user=user).student_id == "s123"
    assert not selectors.account_is_pending(user)  # not invited yet


def test_it_refuses_an_email_that_has_an_account(ada):
    with pytest.raises(ApplicationError) as exc:
        services.account_create(actor=SYSTEM, email="ADA@example.edu")
    assert exc.value.code == "email_taken"


def test_it_refuses_an_invalid_email():
    with pytest.raises(ApplicationError) as exc:
        services.account_create(actor=SYSTEM, email="not an email")
    assert exc.value.code == "invalid_email"


def test_a_student_id_belongs_to_one_account():
    services.account_create(actor=SYSTEM, email="a@example.edu", student_id="s1")

    with pytest.raises(ApplicationError) as exc:
        services.account_create(actor=SYSTEM, email="b@example.edu", student_id="s1")
    assert exc.value.code == "student_id_taken"
    assert not User.objects.filter(email="b@example.edu").exists()  # rolled back
    # Blank ids are not "the same id".
    services.account_create(actor=SYSTEM, email="c@example.edu")
    services.account_create(actor=SYSTEM, email="d@example.edu")


def test_anonymous_cannot_create_or_invite_accounts(ada):
    with pytest.raises(PermissionDeniedError):
        services.account_create(actor=Anonymous(), email="x@example.edu")
    with pytest.raises(PermissionDeniedError):
        services.account_invite(actor=Anonymous(), user=ada)


def test_an_invitation_records_who_and_when_and_emails_a_link(staff):
    user = services.account_create(actor=staff, email="linus@example.edu")

    services.account_invite(actor=staff, user=user)

    profile = Profile.objects.get(user=user)
    assert profile.invited_at is not None and profile.invited_by == staff
    assert selectors.account_is_pending(user)
    assert [m.to for m in mail.outbox] == [["linus@example.edu"]]
    assert "Your username is: linus" in mail.outbox[0].body
    assert last_link("/accounts/invitation/")


def test_a_system_invitation_names_no_inviter():
    user = services.account_create(actor=SYSTEM, email="linus@example.edu")

    services.account_invite(actor=SYSTEM, user=user)

    assert Profile.objects.get(user=user).invited_by is None


def test_an_account_with_a_password_is_not_invited(ada, staff):
    with pytest.raises(ApplicationError) as exc:
        services.account_invite(actor=staff, user=ada)
    assert exc.value.code == "already_active"
    assert mail.outbox == []


@pytest.mark.parametrize("who", ["self", "staff", "system"])
def test_profile_update_by_the_user_staff_or_system(ada, staff, who):
    actor = {"self": ada, "staff": staff, "system": SYSTEM}[who]

    services.profile_update(actor=actor, user=ada, preferred_name=" Ada ", display_name="AL")

    profile = Profile.objects.get(user=ada)
    assert (profile.preferred_name, profile.display_name) == ("Ada", "AL")
    assert selectors.display_name_of(user=ada) == "AL"


def test_another_user_cannot_update_a_profile(ada, grace):
    with pytest.raises(PermissionDeniedError):
        services.profile_update(actor=grace, user=ada, preferred_name="x", display_name="x")
    assert not Profile.objects.filter(user=ada).exists()


def test_the_leaderboard_name_falls_back_to_the_first_name_then_the_username(ada):
    assert selectors.display_name_of(user=ada) == ada.first_name
    ada.first_name = ""
    assert selectors.display_name_of(user=ada) == "ada"


def test_the_leaderboard_name_is_never_the_email(db):
    user = UserFactory(username="ada@example.edu", first_name="", email="ada@example.edu")
    assert selectors.display_name_of(user=user) == "ada"


def test_an_email_change_waits_for_the_confirmation_link(ada):
    services.email_change_request(actor=ada, user=ada, new_email="ada@new.edu")

    ada.refresh_from_db()
    assert ada.email == "ada@example.edu"
    assert mail.outbox[-1].to == ["ada@new.edu"]
    token = last_link("/accounts/email/confirm/").split("/")[-2]

    services.email_change_confirm(token=token)

    ada.refresh_from_db()
    assert ada.email == "ada@new.edu"


def test_an_email_change_link_works_once(ada):
    services.email_change_request(actor=ada, user=ada, new_email="ada@new.edu")
    token = last_link("/accounts/email/confirm/").split("/")[-2]
    services.email_change_confirm(token=token)

    with pytest.raises(ApplicationError) as exc:
        services.email_change_confirm(token=token)
    assert exc.value.code == "link_used"


def test_an_email_change_link_expires(ada, settings):
    with mock.patch("django.core.signing.time.time", return_value=time.time() - 4 * 86400):
        services.email_change_request(actor=ada, user=ada, new_email="ada@new.edu")
    token = last_link("/accounts/email/confirm/").split("/")[-2]

    with pytest.raises(ApplicationError) as exc:
        services.email_change_confirm(token=token)
    assert exc.value.code == "link_expired"
    ada.refresh_from_db()
    assert ada.email == "ada@example.edu"


def test_a_tampered_email_change_link_is_refused(ada):
    services.email_change_request(actor=ada, user=ada, new_email="ada@new.edu")
    token = last_link("/accounts/email/confirm/").split("/")[-2]

    with pytest.raises(ApplicationError) as exc:
        services.email_change_confirm(token=token[:-3] + "abc")
    assert exc.value.code == "link_invalid"


def test_an_email_change_to_another_accounts_address_reveals_nothing(ada, grace):
    services.email_change_request(actor=ada, user=ada, new_email="grace@example.edu")

    # No error for the requester; the address's owner gets a notice with no link to confirm.
    assert mail.outbox[-1].to == ["grace@example.edu"]
    assert "/accounts/email/confirm/" not in mail.outbox[-1].body


def test_another_user_cannot_change_an_email(ada, grace):
    with pytest.raises(PermissionDeniedError):
        services.email_change_request(actor=grace, user=ada, new_email="g2@example.edu")
    assert mail.outbox == []


def test_sign_up_creates_an_inactive_account_and_emails_a_link():
    user = services.account_signup(
        email="new@example.edu", password=PASSWORD, first_name="New", last_name="Student"
    )

    assert user is not None and not user.is_active and user.check_password(PASSWORD)
    assert mail.outbox[-1].to == ["new@example.edu"]
    assert last_link("/accounts/signup/confirm/")


def test_sign_up_with_an_existing_email_sends_a_notice_and_creates_nothing(ada):
    result = services.account_signup(
        email="ADA@example.edu", password=PASSWORD, first_name="Eve", last_name="X"
    )

    assert result is None
    assert User.objects.filter(email__iexact="ada@example.edu").count() == 1
    assert len(mail.outbox) == 1  # one email either way: a notice, not a link
    assert "/accounts/signup/confirm/" not in mail.outbox[0].body
    ada.refresh_from_db()
    assert ada.check_password(PASSWORD) and ada.first_name != "Eve"


def test_sign_up_refuses_a_weak_password():
    with pytest.raises(ApplicationError) as exc:
        services.account_signup(email="n@example.edu", password="123", first_name="", last_name="")
    assert exc.value.code == "invalid_password"
    assert mail.outbox == []


def test_signing_up_again_replaces_the_password_and_the_link():
    user = services.account_signup(
        email="n@example.edu", password="first-secret-words", first_name="", last_name=""
    )
    first_token = last_link("/accounts/signup/confirm/").split("/")[-2]
    again = services.account_signup(
        email="n@example.edu", password="second-secret-words", first_name="", last_name=""
    )
    second_token = last_link("/accounts/signup/confirm/").split("/")[-2]

    assert again.pk == user.pk
    assert not services.signup_link_valid(user=again, token=first_token)
    with pytest.raises(ApplicationError) as exc:
        services.signup_confirm(user=again, token=second_token, password="first-secret-words")
    assert exc.value.code == "wrong_password"
    services.signup_confirm(user=again, token=second_token, password="second-secret-words")
    again.refresh_from_db()
    assert again.is_active


def test_a_sign_up_link_works_once():
    user = services.account_signup(
        email="n@example.edu", password=PASSWORD, first_name="", last_name=""
    )
    token = last_link("/accounts/signup/confirm/").split("/")[-2]
    services.signup_confirm(user=user, token=token, password=PASSWORD)

    with pytest.raises(ApplicationError) as exc:
        services.signup_confirm(user=user, token=token, password=PASSWORD)
    assert exc.value.code == "link_invalid"


def test_an_invited_account_is_not_pending_once_it_has_a_password():
    user = services.account_create(actor=SYSTEM, email="linus@example.edu")
    services.account_invite(actor=SYSTEM, user=user)

    user.set_password(PASSWORD)
    user.save()

    assert not selectors.account_is_pending(user)


def test_user_by_email_ignores_case(ada):
    assert selectors.user_by_email(email=" ADA@EXAMPLE.EDU ") == ada
    assert selectors.user_by_email(email="nobody@example.edu") is None
