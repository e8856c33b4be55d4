"""Private files and media in S3-compatible storage (a real S3 server process, tests/s3.py)."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages

from core.storage import PrivateS3Storage, private_storage

pytestmark = pytest.mark.s3


def _unsigned_get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
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

    assert _unsigned_get(f"{server.endpoint_url}/{server.bucket}/{public_key}") == 200
    assert _unsigned_get(f"{server.endpoint_url}/{server.bucket}/{key}") == 403


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
