"""Where private files (held-out labels, submitted artifacts) and media live: local disk or an
S3-compatible bucket (STORAGE_BACKEND, config/env.py). Private files never get a URL."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError
from django.core.files import File
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.db.models.fields.files import FieldFile
from storages.backends.s3 import S3Storage
from storages.utils import clean_name

from core.exceptions import ApplicationError

logger = logging.getLogger(__name__)

#: What a storage raises when it cannot be reached or refuses the request: botocore's errors
#: for S3 (connection refused, timeouts, AccessDenied), OSError for a local disk.
STORAGE_ERRORS = (BotoCoreError, ClientError, OSError)

_NO_URL = "Private files have no URL; stream them through a permission-checked view."
COPY_CHUNK_BYTES = 1024 * 1024


class PrivateFileSystemStorage(FileSystemStorage):
    """Files that must never be reachable by URL (held-out labels, submitted artifacts)."""

    def url(self, name: str | None) -> str:
        raise ValueError(_NO_URL)


class PrivateS3Storage(S3Storage):
    """The same, in a bucket: objects are uploaded with no ACL (private: only the bucket's own
    credentials read them) and the storage refuses to make a URL, even a presigned one."""

    def url(
        self,
        name: str,
        parameters: dict | None = None,
        expire: int | None = None,
        http_method: str | None = None,
    ) -> str:
        raise ValueError(_NO_URL)


def private_storage() -> Storage:
    return storages["private"]


class StoredFileTooLarge(Exception):
    """A stored file is larger than the copy allows (it is not copied)."""

    def __init__(self, *, name: str, size: int, max_bytes: int):
        super().__init__(f"{name} is {size} bytes, over the {max_bytes}-byte limit")
        self.size = size
        self.max_bytes = max_bytes


def copy_to_path(storage: Storage, name: str, dest: Path, *, max_bytes: int | None = None) -> Path:
    """Stream a stored file to `dest` in 1 MiB chunks, never holding it whole in memory; with
    `max_bytes`, refuse a larger file (StoredFileTooLarge) before its first byte is copied
    where the size is known, and stop as soon as the limit is passed otherwise.

    From S3 the object is read straight from the GET response's body (django-storages' own
    file object would first download all of it into a temporary file)."""
    if max_bytes is not None:
        size = storage.size(name)
        if size > max_bytes:
            raise StoredFileTooLarge(name=name, size=size, max_bytes=max_bytes)
    with dest.open("wb") as out:
        copied = 0
        for chunk in _chunks(storage, name):
            copied += len(chunk)
            if max_bytes is not None and copied > max_bytes:
                # The object grew between the size check and the read.
                raise StoredFileTooLarge(name=name, size=copied, max_bytes=max_bytes)
            out.write(chunk)
    return dest


def _chunks(storage: Storage, name: str) -> Iterator[bytes]:
    if isinstance(storage, S3Storage):
        key = storage._normalize_name(clean_name(name))  # as S3Storage._open names it
        body = storage.bucket.Object(key).get()["Body"]
        try:
            yield from body.iter_chunks(COPY_CHUNK_BYTES)
        finally:
            body.close()
        return
    with storage.open(name, "rb") as src:
        while chunk := src.read(COPY_CHUNK_BYTES):
            yield chunk


def storage_unavailable_error() -> ApplicationError:
    return ApplicationError(
        "storage_unavailable",
        "The file store could not be reached, so your upload was not saved and nothing was "
        "counted against your quota. Try again in a few minutes; if it keeps failing, tell "
        "your instructor (an administrator checks /readyz and the S3 settings).",
        status_code=503,
    )


def store_file(field_file: FieldFile, name: str, content: File) -> None:
    """Save `content` into `field_file` (not the row), or raise `storage_unavailable` (503)
    when the storage cannot be reached: nothing is stored then."""
    try:
        field_file.save(name, content, save=False)
    except STORAGE_ERRORS:
        logger.exception("Could not store %s in %s", name, type(field_file.storage).__name__)
        field_file.name = None
        raise storage_unavailable_error() from None


def discard_stored(field_file: FieldFile) -> None:
    """Delete a file stored for a row that is not being saved after all (best effort: when
    the storage is unreachable the object stays, and the log says which)."""
    if not field_file.name:
        return
    try:
        field_file.storage.delete(field_file.name)
    except STORAGE_ERRORS:
        logger.exception("Could not delete the orphaned %s", field_file.name)
