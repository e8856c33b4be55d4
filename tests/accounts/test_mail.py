"""Email settings: `make run`'s development backend, and the deploy check on SITE_URL."""

from __future__ import annotations

import logging

from django.core import mail

from accounts.checks import check_site_url
from accounts.mail import DevMailBackend


def test_the_dev_backend_writes_each_message_to_a_file_and_logs_its_link(tmp_path, caplog):
    backend = DevMailBackend(file_path=str(tmp_path))
    message = mail.EmailMessage(
        "Invitation", "Choose a password: https://cb.example/accounts/x/ now", to=["a@b.edu"]
    )

    with caplog.at_level(logging.INFO, logger="accounts.mail"):
        assert backend.send_messages([message]) == 1

    files = list(tmp_path.iterdir())
    assert len(files) == 1 and "https://cb.example/accounts/x/" in files[0].read_text()
    assert "a@b.edu" in caplog.text and "https://cb.example/accounts/x/" in caplog.text


def test_deploy_check_warns_about_a_localhost_site_url(settings):
    settings.SITE_URL = "http://127.0.0.1:8000"
    assert [m.id for m in check_site_url(None)] == ["accounts.W001"]

    settings.SITE_URL = "https://coursebench.example.edu"
    assert check_site_url(None) == []
