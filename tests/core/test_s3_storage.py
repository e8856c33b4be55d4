"""Private files and media in S3-compatible storage (a real S3 server process, tests/s3.py)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.files.storage import storages

from config.env import s3_settings, storage_backends
from core.storage import PrivateS3Storage, StoredFileTooLarge, copy_to_path, private_storage
from tests.s3 import S3Server

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.s3


def _unsigned(request: urllib.request.Request | str) -> int:
    """The status of a request sent without any credentials."""
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_a_private_file_is_stored_in_the_bucket_under_the_private_prefix(s3_storage):
    name = private_storage().save("heldout/data.csv", ContentFile(b"text,label\\n"))

    assert isinstance(private_storage(), PrivateS3Storage)
    assert s3_storage.private_keys() == [f"{s3_storage.private_prefix}/{name}"]
    with private_storage().open(name) as stored:
        assert stored.read() == b"text,label\\n"


def test_a_private_object_is_refused_without_credentials_and_a_public_one_is_not(s3_storage):
    server = s3_storage.server
    name = private_storage().save("submissions/model.zip", ContentFile(b"weights"))
    key = f"{s3_storage.private_prefix}/{name}"
    # The control: the server does serve an unsigned GET of an object made public on purpose,
    # so a 403 below is the private object's ACL at work, not a server that refuses everything.
    public_key = f"{s3_storage.prefix}/public/control.txt"
    server.client().put_object(Bucket=server.bucket, Key=public_key, Body=b"hi", ACL="public-read")

    assert _unsigned(f"{server.endpoint_url}/{server.bucket}/{public_key}") == 200
    assert _unsigned(f"{server.endpoint_url}/{server.bucket}/{key}") == 403
    with private_storage().open(name) as stored:  # while the storage's signed GET reads it
        assert stored.read() == b"weights"


def test_without_credentials_nothing_can_be_listed_or_written(s3_storage):
    server = s3_storage.server
    listing = urllib.request.Request(f"{server.endpoint_url}/{server.bucket}/?list-type=2")
    put = urllib.request.Request(
        f"{server.endpoint_url}/{server.bucket}/{s3_storage.private_prefix}/planted.zip",
        data=b"not a model",
        method="PUT",
    )

    assert _unsigned(listing) == 403
    assert _unsigned(put) == 403
    assert s3_storage.private_keys() == []


def test_a_private_file_has_no_url_not_even_a_presigned_one(s3_storage):
    name = private_storage().save("heldout/data.csv", ContentFile(b"x"))

    with pytest.raises(ValueError, match="no URL"):
        private_storage().url(name)


def test_a_second_upload_under_the_same_name_never_replaces_the_first(s3_storage):
    first = private_storage().save("heldout/data.csv", ContentFile(b"first"))
    second = private_storage().save("heldout/data.csv", ContentFile(b"second"))

    assert first != second
    assert private_storage().open(first).read() == b"first"


def test_a_media_url_is_signed_and_expires_within_minutes(s3_storage):
    media = storages["default"]
    name = media.save("avatars/a.png", ContentFile(b"png"))

    url = media.url(name)

    assert "X-Amz-Signature=" in url and "X-Amz-Expires=300" in url
    assert url.startswith(f"{s3_storage.server.endpoint_url}/{s3_storage.server.bucket}/")


def test_objects_are_kept_when_the_server_restarts(s3_storage):
    name = private_storage().save("heldout/data.csv", ContentFile(b"kept"))

    s3_storage.server.stop()
    s3_storage.server.start()

    assert private_storage().open(name).read() == b"kept"


# --- /readyz ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_readyz_checks_the_bucket_and_leaves_nothing_in_it(client, s3_storage):
    response = client.get("/readyz")

    assert response.status_code == 200, response.content
    assert response.json()["checks"]["storage"] == "ok"
    assert s3_storage.server.keys(s3_storage.prefix + "/") == []


@pytest.mark.django_db
def test_readyz_is_503_naming_storage_when_the_s3_server_is_down(client, s3_storage):
    s3_storage.server.stop()

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["failed"] == ["storage"]


@pytest.mark.django_db
def test_readyz_is_503_when_the_keys_are_wrong(client, s3_storage, settings):
    wrong = {**settings.STORAGES["private"]["OPTIONS"], "secret_key": "not-the-secret"}
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {**settings.STORAGES["private"], "OPTIONS": wrong},
    }

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["failed"] == ["storage"]


# --- what a worker copies -----------------------------------------------------------------------


def test_a_worker_copy_streams_the_object_to_its_temp_dir(s3_storage, tmp_path):
    data = bytes(range(256)) * 12_000  # 3 MiB: more than one chunk
    name = private_storage().save("submissions/model.zip", ContentFile(data))

    copied = copy_to_path(private_storage(), name, tmp_path / "model.zip", max_bytes=len(data))

    assert copied.read_bytes() == data


def test_a_worker_copy_over_the_limit_is_refused_before_anything_is_written(s3_storage, tmp_path):
    name = private_storage().save("submissions/model.zip", ContentFile(b"x" * 2048))

    with pytest.raises(StoredFileTooLarge) as refused:
        copy_to_path(private_storage(), name, tmp_path / "model.zip", max_bytes=1024)

    assert refused.value.size == 2048
    assert not (tmp_path / "model.zip").exists()


# --- configuration ------------------------------------------------------------------------------


def test_storage_backend_s3_without_its_variables_stops_start_up_naming_them(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("S3_") and key != "STORAGE_BACKEND"
    }
    env.update(STORAGE_BACKEND="s3", S3_BUCKET="coursebench", COURSEBENCH_ENV_FILE="")

    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode != 0
    assert "STORAGE_BACKEND=s3 needs S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, not set" in (
        result.stderr
    )
    assert 'docs/deploy.md, "Object storage (S3)"' in result.stderr


def _s3(**changes):
    values = {
        "bucket": "coursebench",
        "access_key_id": "AKIA",
        "secret_access_key": "secret",
        "endpoint_url": "https://s3.example.org",
        "region": "us-east-1",
        "addressing_style": "path",
        "private_prefix": "private",
        "media_prefix": "media",
        **changes,
    }
    return s3_settings(**values)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"addressing_style": "vhost"}, "S3_ADDRESSING_STYLE='vhost' is not supported"),
        ({"endpoint_url": "s3.example.org"}, "S3_ENDPOINT_URL='s3.example.org' is not a URL"),
        ({"media_prefix": "private/"}, "S3_PRIVATE_PREFIX and S3_MEDIA_PREFIX are the same"),
        ({"private_prefix": "/"}, "S3_PRIVATE_PREFIX is empty"),
    ],
)
def test_invalid_s3_settings_are_refused_with_what_to_use(changes, message):
    with pytest.raises(ImproperlyConfigured, match=re.escape(message)):
        _s3(**changes)


def test_the_storage_options_are_private_unique_and_signed_briefly():
    options = storage_backends(
        "s3", media_root=Path("m"), media_url="media/", private_root=Path("p"), s3=_s3()
    )

    private = options["private"]["OPTIONS"]
    assert options["private"]["BACKEND"] == "core.storage.PrivateS3Storage"
    assert private["default_acl"] is None
    assert private["file_overwrite"] is False
    assert private["querystring_auth"] is True and private["querystring_expire"] == 300
    assert private["location"] == "private"
    assert options["default"]["OPTIONS"]["location"] == "media"
    assert private["client_config"].s3 == {"addressing_style": "path"}


def test_local_storage_is_the_default_backend():
    options = storage_backends(
        "local", media_root=Path("/m"), media_url="media/", private_root=Path("/p")
    )

    assert options["private"] == {
        "BACKEND": "core.storage.PrivateFileSystemStorage",
        "OPTIONS": {"location": "/p"},
    }


def test_the_test_server_starts_with_a_secret_key_that_begins_with_a_dash(tmp_path):
    """The suite's keys are random (`secrets.token_urlsafe`): about one in 32 begins with "-",
    which the launcher's argument parser once took for an option, failing a whole CI run."""
    server = S3Server(directory=tmp_path, secret_key="-starts-like-an-option")
    server.start()
    try:
        server.client().head_bucket(Bucket=server.bucket)
    finally:
        server.stop()
