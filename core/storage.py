from django.core.files.storage import FileSystemStorage, storages


class PrivateFileSystemStorage(FileSystemStorage):
    """Files that must never be reachable by URL (held-out labels, submitted artifacts)."""

    def url(self, name: str | None) -> str:
        raise ValueError(
            "Private files have no URL; stream them through a permission-checked view."
        )


def private_storage() -> FileSystemStorage:
    return storages["private"]
