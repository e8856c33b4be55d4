"""The account pages, per role: anonymous, the user, another user, staff. Links in emails
work once and expire; bad ones get a page that says what to do, never a 500."""

from __future__ import annotations

import re
import time
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from accounts import services
from accounts.models import Profile
from core.actors import SYSTEM
from tests.accounts.conftest import days_ago, last_link
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
User = get_user_model()
NEW_PASSWORD = "a-brand-new-passphrase"


def set_password(client, link: str, password: str = NEW_PASSWORD):
    """Follow an emailed set-password link (Django moves the token into the session)."""
    response = client.get(link)
    assert response.status_code == 302, response.content
    form_url = response["Location"]
    return client.post(form_url, {"new_password1": password, "new_password2": password})


def comparable(response) -> str:
    return re.sub(r"[A-Za-z0-9]{64}", "<csrf>", response.content.decode())


# --- Invitation -------------------------------------------------------------------------


@pytest.fixture
def invited(db):
    user = services.account_create(actor=SYSTEM, email="linus@example.edu")
    services.account_invite(actor=SYSTEM, user=user)
    return user


def test_the_invitation_link_sets_the_password_logs_in_and_lands_home(client, invited):
    link = last_link("/accounts/invitation/")

    response = set_password(client, link)

    assert response.status_code == 302 and response["Location"] == reverse("home")
    invited.refresh_from_db()
    assert invited.check_password(NEW_PASSWORD)
    assert client.get(reverse("home")).wsgi_request.user == invited


def test_the_invitation_link_works_once(client, invited):
    link = last_link("/accounts/invitation/")
    set_password(client, link)
    client.logout()

    response = client.get(link, follow=True)

    assert response.status_code == 200
    assert "This invitation link has expired or was already used" in response.content.decode()
    assert reverse("password_reset") in response.content.decode()  # what to do: a new link


def test_an_expired_invitation_link_says_to_request_a_new_one(client):
    user = services.account_create(actor=SYSTEM, email="linus@example.edu")
    with days_ago(4):
        services.account_invite(actor=SYSTEM, user=user)

    response = client.get(last_link("/accounts/invitation/"), follow=True)

    assert response.status_code == 200
    assert "expired or was already used" in response.content.decode()
    user.refresh_from_db()
    assert not user.has_usable_password()


def test_a_resent_invitation_ends_the_older_link(client, invited):
    old = last_link("/accounts/invitation/")
    services.account_invite(actor=SYSTEM, user=invited)
    new = last_link("/accounts/invitation/")

    assert "expired or was already used" in client.get(old, follow=True).content.decode()
    assert set_password(client, new).status_code == 302


def test_a_mangled_invitation_link_gets_the_same_clear_page(client, invited):
    response = client.get("/accounts/invitation/zzz/not-a-token/")

    assert response.status_code == 200
    assert "expired or was already used" in response.content.decode()


def test_invitation_links_are_on_site_url_not_the_request_host(invited):
    assert "https://coursebench.example.edu/accounts/invitation/" in mail.outbox[-1].body


# --- Password reset ---------------------------------------------------------------------


def test_the_login_page_links_to_password_reset(client):
    response = client.get(reverse("login"))

    assert 'href="/accounts/password/reset/">Forgot your password?' in response.content.decode()


def test_reset_answers_the_same_for_an_unknown_email_and_sends_nothing(client, ada):
    url = reverse("password_reset")
    known = client.post(url, {"email": "ada@example.edu"}, follow=True)
    assert len(mail.outbox) == 1
    unknown = client.post(url, {"email": "nobody@example.edu"}, follow=True)

    assert len(mail.outbox) == 1  # none for the unknown address
    assert known.status_code == unknown.status_code == 200
    assert known.redirect_chain == unknown.redirect_chain
    assert comparable(known) == comparable(unknown)


def test_the_reset_link_sets_a_new_password_once(client, ada):
    client.post(reverse("password_reset"), {"email": "ADA@example.edu"})
    link = last_link("/accounts/password/reset/")
    assert link.startswith("/accounts/password/reset/") and "Your username is: ada" in (
        mail.outbox[-1].body
    )

    response = set_password(client, link)

    assert response["Location"] == reverse("home")
    ada.refresh_from_db()
    assert ada.check_password(NEW_PASSWORD)
    client.logout()
    reused = client.get(link, follow=True)
    assert "This link has expired or was already used" in reused.content.decode()
    assert 'href="/accounts/password/reset/">Request a new link' in reused.content.decode()


def test_an_expired_reset_link_says_to_request_a_new_one(client, ada):
    with days_ago(4):
        client.post(reverse("password_reset"), {"email": "ada@example.edu"})

    response = client.get(last_link("/accounts/password/reset/"), follow=True)

    assert "This link has expired or was already used" in response.content.decode()


def test_an_invited_account_can_use_reset_to_get_a_fresh_link(client, invited):
    client.post(reverse("password_reset"), {"email": "linus@example.edu"})

    assert set_password(client, last_link("/accounts/password/reset/")).status_code == 302
    invited.refresh_from_db()
    assert invited.check_password(NEW_PASSWORD)


def test_an_inactive_account_gets_no_reset_email(client, ada):
    ada.is_active = False
    ada.save()

    client.post(reverse("password_reset"), {"email": "ada@example.edu"})

    assert mail.outbox == []


# --- Change password --------------------------------------------------------------------


def test_anonymous_is_sent_to_log_in_for_change_password_and_profile(client):
    for name in ("password_change", "profile"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_user_changes_their_password_with_the_old_one(client, ada):
    client.force_login(ada)

    wrong = client.post(
        reverse("password_change"),
        {"old_password": "nope", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    right = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert wrong.status_code == 200 and "incorrectly" in wrong.content.decode()
    assert right.status_code == 302 and right["Location"] == reverse("profile")
    ada.refresh_from_db()
    assert ada.check_password(NEW_PASSWORD)


# --- Profile and email change -----------------------------------------------------------


@pytest.mark.parametrize("who", ["ada", "grace", "staff"])
def test_the_profile_page_shows_and_saves_only_ones_own_account(client, ada, grace, staff, who):
    user = {"ada": ada, "grace": grace, "staff": staff}[who]
    client.force_login(user)

    page = client.get(reverse("profile"))
    saved = client.post(
        reverse("profile"), {"action": "profile", "preferred_name": "P", "display_name": "D"}
    )

    assert page.status_code == 200
    assert f"<strong>{user.email}</strong>" in page.content.decode()
    others = {ada, grace, staff} - {user}
    assert not any(other.email in page.content.decode() for other in others)
    assert saved.status_code == 302
    assert Profile.objects.get(user=user).display_name == "D"
    assert not Profile.objects.filter(user__in=others).exists()


def test_a_display_name_too_long_is_a_form_error(client, ada):
    client.force_login(ada)

    response = client.post(
        reverse("profile"), {"action": "profile", "preferred_name": "", "display_name": "x" * 61}
    )

    assert response.status_code == 400
    assert "at most 60 characters" in response.content.decode()


def test_an_email_change_from_the_profile_page_is_confirmed_by_its_link(client, ada, grace):
    client.force_login(ada)
    requested = client.post(reverse("profile"), {"action": "email", "new_email": "ada@new.edu"})
    assert requested.status_code == 302
    link = last_link("/accounts/email/confirm/")

    client.force_login(grace)  # the link, not the session, names the account
    page = client.get(link)
    confirmed = client.post(link)

    assert page.status_code == 200 and "Confirm new email" in page.content.decode()
    assert confirmed.status_code == 302
    ada.refresh_from_db()
    grace.refresh_from_db()
    assert (ada.email, grace.email) == ("ada@new.edu", "grace@example.edu")

    reused = client.post(link)
    assert reused.status_code == 400
    assert "already used" in reused.content.decode()


def test_an_expired_email_change_link_gets_a_clear_page(client, ada):
    with mock.patch("django.core.signing.time.time", return_value=time.time() - 4 * 86400):
        services.email_change_request(actor=ada, user=ada, new_email="ada@new.edu")

    response = client.post(last_link("/accounts/email/confirm/"))

    assert response.status_code == 400
    assert "has expired" in response.content.decode()


def test_changing_to_the_same_email_is_a_form_error(client, ada):
    client.force_login(ada)

    response = client.post(reverse("profile"), {"action": "email", "new_email": ada.email})

    assert response.status_code == 400
    assert "already your email address" in response.content.decode()
    assert mail.outbox == []


def test_changing_to_another_accounts_email_answers_like_any_other(client, ada, grace):
    client.force_login(ada)

    taken = client.post(reverse("profile"), {"action": "email", "new_email": grace.email})
    free = client.post(reverse("profile"), {"action": "email", "new_email": "free@example.edu"})

    assert taken.status_code == free.status_code == 302
    assert len(mail.outbox) == 2


# --- Sign-up confirmation ----------------------------------------------------------------


def test_the_sign_up_link_asks_for_the_password_then_logs_in(client):
    user = services.account_signup(
        email="new@example.edu", password=PASSWORD, first_name="N", last_name="S"
    )
    link = last_link("/accounts/signup/confirm/")

    page = client.get(link)
    wrong = client.post(link, {"password": "nope"})
    right = client.post(link, {"password": PASSWORD})

    assert page.status_code == 200 and "Confirm and log in" in page.content.decode()
    assert wrong.status_code == 400 and "not the password" in wrong.content.decode()
    assert right.status_code == 302 and right["Location"] == reverse("home")
    user.refresh_from_db()
    assert user.is_active
    reused = client.get(link)
    assert reused.status_code == 400 and "already used" in reused.content.decode()


def test_a_mangled_sign_up_link_gets_a_clear_page(client):
    response = client.get("/accounts/signup/confirm/zz/nope/")

    assert response.status_code == 400
    assert "expired or was already used" in response.content.decode()


def test_the_sign_up_link_lands_on_its_next_page_but_never_off_site(client):
    services.account_signup(
        email="new@example.edu",
        password=PASSWORD,
        first_name="N",
        last_name="S",
        next="/join/?code=ABCDEFGH",
    )
    link = last_link("/accounts/signup/confirm/")
    evil = link.split("?")[0] + "?next=https://evil.example.com/"

    landed = client.post(link, {"password": PASSWORD})

    assert landed.status_code == 302 and landed["Location"] == "/join/?code=ABCDEFGH"
    client.logout()
    User.objects.filter(email="new@example.edu").update(is_active=False, last_login=None)
    off_site = client.post(evil, {"password": PASSWORD})
    assert off_site.status_code == 302 and off_site["Location"] == reverse("home")
