"""Typed grading errors. Every code has a message that tells the student how to fix it."""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    INVALID_ARCHIVE = "invalid_archive"  # not a zip / tar.gz, or corrupt
    UNSAFE_ARCHIVE = "unsafe_archive"  # absolute paths, "..", links, device files
    TOO_LARGE = "too_large"  # upload, entry count or uncompressed size over the lab's limit
    UNSAFE_WEIGHTS = "unsafe_weights"  # pickle-based weights (.bin, .pt, .pth, .pkl, .ckpt)
    MISSING_FILES = "missing_files"  # no config.json / safetensors weights / tokenizer
    REMOTE_CODE = "remote_code"  # auto_map or any custom code
    UNSUPPORTED_MODEL = "unsupported_model"  # not a sequence-classification architecture
    LABEL_MISMATCH = "label_mismatch"  # id2label does not match the lab's labels
    LOAD_FAILED = "load_failed"  # transformers could not load it
    TIMEOUT = "timeout"  # grading wall-clock limit exceeded
    OUT_OF_MEMORY = "out_of_memory"  # grading memory cap exceeded
    INVALID_DATASET = "invalid_dataset"  # the held-out file is unusable (instructor's problem)
    INTERNAL = "internal"  # our fault; never charged to the student's quota


class GradingError(Exception):
    """A submission the engine rejects (or could not grade), with a fix-it message."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = ErrorCode(code)
        self.message = message

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code.value, "message": self.message}

    def __str__(self) -> str:
        return f"{self.code.value}: {self.message}"


def first_line(exc: BaseException, *, limit: int = 300) -> str:
    """`Type: first line of the message`, at most `limit` characters: what a fix-it message
    quotes of a library's exception (its full text can be pages of tensor shapes)."""
    text = str(exc).strip()
    line = text.splitlines()[0].strip() if text else ""
    line = f"{type(exc).__name__}: {line}" if line else type(exc).__name__
    return line if len(line) <= limit else line[: limit - 3] + "..."


def is_memory_error(exc: BaseException) -> bool:
    """MemoryError, or torch's allocator failing (CPU or CUDA) - an out-of-memory, not a bug."""
    if isinstance(exc, MemoryError):
        return True
    text = str(exc).lower()
    return type(exc).__name__ == "OutOfMemoryError" or any(
        marker in text
        for marker in ("can't allocate memory", "cannot allocate memory", "out of memory")
    )
