"""Where private files (held-out labels, submitted artifacts) and media live: local disk or an
S3-compatible bucket (STORAGE_BACKEND, config/env.py). Private files never get a URL."""

from __future__ import annotations

from pathlib import Path

from django.core.files.storage import FileSystemStorage, Storage, storages
from storages.backends.s3 import S3Storage

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


def _chunks(storage: Storage, name: str):
    if isinstance(storage, S3Storage):
        key = storage._normalize_name(storage._clean_name(name))
        body = storage.bucket.Object(key).get()["Body"]
        try:
            yield from body.iter_chunks(COPY_CHUNK_BYTES)
        finally:
            body.close()
        return
    with storage.open(name, "rb") as src:
        while chunk := src.read(COPY_CHUNK_BYTES):
            yield chunk
