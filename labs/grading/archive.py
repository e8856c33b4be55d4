"""Safe extraction of student uploads (.zip / .tar.gz) before anything looks inside them.

Every member is checked before a single byte is written: no absolute paths, no ``..``, no links,
no device files, no NUL or control characters in names, entry count and declared size within the
lab's limits. Files are then written one by one by this module (never ``extractall``) with
``O_EXCL | O_NOFOLLOW``, counting the bytes really written, so an archive whose headers lie stops
at the limit. On any failure ``dest`` is emptied again.
"""

from __future__ import annotations

import gzip
import os
import re
import shutil
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from labs.grading.errors import ErrorCode, GradingError

MB = 1024**2

UPLOAD_HINT = (
    "Upload a .zip or .tar.gz of the folder written by `model.save_pretrained(...)` and "
    "`tokenizer.save_pretrained(...)`."
)

#: Archive-tool droppings that are skipped (never extracted, never treated as the model root).
JUNK_DIRS = frozenset({"__MACOSX"})
JUNK_FILES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})

#: A member whose declared size is this big and compresses better than MAX_RATIO:1 is a bomb.
#: Real weights compress ~1.1:1 and tokenizer files ~5:1; deflate tops out near 1030:1.
MAX_RATIO = 200
RATIO_MIN_BYTES = 16 * MB

#: The most path components / bytes per component / bytes per name accepted in an archive.
MAX_DEPTH = 32
MAX_COMPONENT_BYTES = 255
MAX_NAME_BYTES = 1024

#: No single read of the decompressed tar stream may be larger than this. tarfile reads pax and
#: GNU long-name headers in one go; a hostile archive can declare one of several GB.
_MAX_TAR_READ = MB + 512
#: pax headers hold a long name and a few attributes (macOS adds some xattrs): a few hundred bytes.
MAX_PAX_BYTES = 64 * 1024
_CHUNK = MB
_ZIP_METHODS = frozenset(
    {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
)


@dataclass(frozen=True)
class ArchiveLimits:
    max_upload_bytes: int = 500 * 1024**2
    max_uncompressed_bytes: int = 2 * 1024**3
    max_entries: int = 2_000


DEFAULT_LIMITS = ArchiveLimits()


@dataclass(frozen=True)
class _Member:
    parts: tuple[str, ...]  # validated path components, relative to dest
    is_dir: bool
    size: int  # declared uncompressed size (0 for directories)
    ref: Any  # zipfile.ZipInfo or tarfile.TarInfo

    @property
    def name(self) -> str:
        return "/".join(self.parts)


def format_mb(n: int) -> str:
    """`12.3 MB` (binary megabytes, like the limits); tiny figures in bytes so they never read 0."""
    if n < MB // 10:
        return f"{n:,} bytes"
    return f"{n / MB:,.1f} MB"


def is_junk(parts: Iterable[str]) -> bool:
    """True for ``__MACOSX/...``, ``.DS_Store`` and AppleDouble ``._name`` files."""
    parts = tuple(parts)
    if not parts:
        return False
    if any(p in JUNK_DIRS for p in parts):
        return True
    return parts[-1] in JUNK_FILES or parts[-1].startswith("._")


def check_upload_size(archive: Path, limits: ArchiveLimits) -> None:
    check_size(archive.stat().st_size, limits)


def check_size(size: int, limits: ArchiveLimits) -> None:
    if size > limits.max_upload_bytes:
        raise GradingError(
            ErrorCode.TOO_LARGE,
            f"The upload is {format_mb(size)}; the limit for this lab is "
            f"{format_mb(limits.max_upload_bytes)}. Upload only the folder written by "
            "`save_pretrained` (leave out checkpoints, optimizer state and datasets).",
        )


def detect_format(archive: Path) -> str:
    """``"zip"`` or ``"tar.gz"`` from the first bytes (the file name is not trusted)."""
    with archive.open("rb") as fh:
        return format_of(fh.read(8))


def format_of(head: bytes) -> str:
    """``"zip"`` or ``"tar.gz"`` from an upload's first 8 bytes, or GradingError."""
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if head.startswith(b"PK\x05\x06"):
        raise GradingError(ErrorCode.INVALID_ARCHIVE, f"The archive is empty. {UPLOAD_HINT}")
    if head.startswith(b"\x1f\x8b"):
        return "tar.gz"
    if not head:
        raise GradingError(ErrorCode.INVALID_ARCHIVE, f"The uploaded file is empty. {UPLOAD_HINT}")
    raise GradingError(
        ErrorCode.INVALID_ARCHIVE,
        f"The uploaded file is not a .zip or .tar.gz archive. {UPLOAD_HINT}",
    )


def extract_archive(archive: Path, dest: Path, *, limits: ArchiveLimits = DEFAULT_LIMITS) -> Path:
    """Safely extract ``archive`` into ``dest`` and return the model root inside it.

    ``dest`` must be an existing, empty, private directory (it is created if missing). The model
    root is ``dest`` itself, or the folder (at most two levels down) that holds ``config.json``
    when the student zipped the ``save_pretrained`` folder itself.
    """
    archive = Path(archive)
    dest = Path(dest)
    check_upload_size(archive, limits)
    kind = detect_format(archive)
    if not dest.exists():
        dest.mkdir(mode=0o700, parents=True)
    if any(dest.iterdir()):
        raise GradingError(ErrorCode.INTERNAL, f"Extraction folder {dest} is not empty.")
    try:
        if kind == "zip":
            _extract_zip(archive, dest, limits)
        else:
            _extract_tar(archive, dest, limits)
    except GradingError:
        _empty(dest)
        raise
    except _CORRUPT as exc:
        _empty(dest)
        raise _corrupt(exc) from exc
    return find_model_root(dest)


#: What a corrupt or truncated archive raises while being read (write errors are raised as
#: INTERNAL by copy_capped; OSError includes gzip.BadGzipFile; RuntimeError: an encrypted member).
_CORRUPT = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    tarfile.TarError,
    EOFError,
    zlib.error,
    OSError,
    ValueError,
    NotImplementedError,
    RuntimeError,
)


def _corrupt(exc: BaseException) -> GradingError:
    return GradingError(
        ErrorCode.INVALID_ARCHIVE,
        f"The archive is corrupt or truncated ({_describe(exc)}). {UPLOAD_HINT}",
    )


def find_model_root(dest: Path) -> Path:
    """The directory holding ``config.json``: ``dest``, or one folder 1-2 levels below it.

    When no level has exactly one candidate, descend through single top-level folders instead
    (so a later "missing config.json" message talks about the folder the student uploaded).
    """
    if (dest / "config.json").is_file():
        return dest
    level = [dest]
    for _ in range(2):
        level = [d for parent in level for d in _subdirs(parent)]
        found = [d for d in level if (d / "config.json").is_file()]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            return dest  # ambiguous: the validator lists the candidates
    root = dest
    for _ in range(2):
        entries = [p for p in root.iterdir() if not is_junk([p.name])]
        if len(entries) == 1 and entries[0].is_dir() and not entries[0].is_symlink():
            root = entries[0]
        else:
            break
    return root


def _subdirs(parent: Path) -> list[Path]:
    return sorted(
        p for p in parent.iterdir() if p.is_dir() and not p.is_symlink() and not is_junk([p.name])
    )


# --- listing without extracting ------------------------------------------------------------

#: At most this much of an archive's small files is held in memory by ``list_archive``.
MAX_LISTING_READ_BYTES = 64 * MB


@dataclass(frozen=True)
class ArchiveListing:
    """What an archive holds, checked as ``extract_archive`` checks it, with nothing written.

    ``files`` maps each plain file's path (``a/b.json``, junk left out) to its declared size;
    ``dirs`` holds every folder, named or implied by a path; ``contents`` the first bytes of
    the files the caller asked for.
    """

    files: dict[str, int]
    dirs: frozenset[str]
    contents: dict[str, bytes]

    def model_root(self) -> str:
        """The folder ``find_model_root`` would pick after extraction ("" for the top)."""
        if "config.json" in self.files:
            return ""
        level = [""]
        for _ in range(2):
            level = [d for parent in level for d in self._subdirs(parent)]
            found = [d for d in level if f"{d}/config.json" in self.files]
            if len(found) == 1:
                return found[0]
            if len(found) > 1:
                return ""
        root = ""
        for _ in range(2):
            entries = self._children(root)
            if len(entries) == 1 and entries[0] in self.dirs:
                root = entries[0]
            else:
                break
        return root

    def _children(self, parent: str) -> list[str]:
        prefix = f"{parent}/" if parent else ""
        return sorted(
            p
            for p in (*self.files, *self.dirs)
            if p.startswith(prefix) and "/" not in p[len(prefix) :]
        )

    def _subdirs(self, parent: str) -> list[str]:
        return [p for p in self._children(parent) if p in self.dirs]


def list_archive(
    source: IO[bytes],
    *,
    limits: ArchiveLimits = DEFAULT_LIMITS,
    read: Callable[[str, int], int] = lambda name, size: 0,
) -> ArchiveListing:
    """Check an upload's listing (names, types, sizes, counts) without writing anything.

    ``source`` is a seekable binary file. ``read(path, declared_size)`` says how many leading
    bytes of a file to keep in ``contents`` (0: none); at most MAX_LISTING_READ_BYTES are kept
    in all, later requests are skipped. A tar.gz is read once, front to back.
    """
    check_size(source.seek(0, os.SEEK_END), limits)
    source.seek(0)
    kind = format_of(source.read(8))
    source.seek(0)
    contents: dict[str, bytes] = {}
    budget = [MAX_LISTING_READ_BYTES]

    def keep(member: _Member, opener: Callable[[], IO[bytes]]) -> None:
        if member.is_dir or is_junk(member.parts):
            return
        n = min(read(member.name, member.size), member.size, budget[0])
        if n > 0:
            with opener() as fh:
                contents[member.name] = fh.read(n)
            budget[0] -= n

    try:
        if kind == "zip":
            with zipfile.ZipFile(_check_zip_directory(source, limits)) as zf:
                members = _zip_plan(zf, limits)
                for m in members:
                    keep(m, lambda m=m: zf.open(m.ref))
        else:
            with _open_tar(source, limits) as tf:
                members = _tar_plan(tf, limits, lambda m: keep(m, lambda: _tar_open(tf, m)))
    except GradingError:
        raise
    except _CORRUPT as exc:
        raise _corrupt(exc) from exc
    kept = [m for m in members if not is_junk(m.parts)]
    dirs = {m.name for m in kept if m.is_dir}
    dirs |= {"/".join(m.parts[:i]) for m in kept for i in range(1, len(m.parts))}
    return ArchiveListing(
        files={m.name: m.size for m in kept if not m.is_dir},
        dirs=frozenset(dirs),
        contents=contents,
    )


# --- names ---------------------------------------------------------------------------------------


def safe_parts(raw_name: str) -> tuple[str, ...]:
    """Validated path components of an archive member name, or GradingError(UNSAFE_ARCHIVE).

    Backslashes are treated as separators (Windows tools write them), so ``..\\..\\x`` is
    traversal too. Empty and ``.`` components are dropped.
    """
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in raw_name[:200])
    if "\x00" in raw_name:
        raise _unsafe(f"the member name `{shown}` contains a NUL byte")
    if any(ord(c) < 32 or ord(c) == 127 for c in raw_name):
        raise _unsafe(f"the member name `{shown}` contains control characters")
    name = raw_name.replace("\\", "/")
    if name.startswith("/") or (len(name) >= 2 and name[1] == ":" and name[0].isalpha()):
        raise _unsafe(f"`{shown}` is an absolute path")
    parts = tuple(p for p in name.split("/") if p not in ("", "."))
    if ".." in parts:
        raise _unsafe(f"`{shown}` points outside the archive folder (`..`)")
    if len(parts) > MAX_DEPTH or len(name.encode("utf-8", "surrogateescape")) > MAX_NAME_BYTES:
        raise _unsafe(f"`{shown[:80]}…` is nested too deeply or has a very long name")
    if any(len(p.encode("utf-8", "surrogateescape")) > MAX_COMPONENT_BYTES for p in parts):
        raise _unsafe(f"`{shown[:80]}…` has a file or folder name longer than 255 bytes")
    return parts


def _unsafe(reason: str) -> GradingError:
    return GradingError(
        ErrorCode.UNSAFE_ARCHIVE,
        f"The archive was rejected because {reason}. Archives may only contain plain files and "
        "folders with relative names. Create it from inside the folder written by "
        "`save_pretrained`, e.g. `cd my_model && zip -r ../my_model.zip .` or "
        "`shutil.make_archive('my_model', 'zip', 'my_model')`.",
    )


def _check_plan(members: list[_Member]) -> None:
    """No path may appear twice, and no file may also be used as a folder."""
    files: set[tuple[str, ...]] = set()
    dirs: set[tuple[str, ...]] = set()
    for m in members:
        for i in range(1, len(m.parts)):
            dirs.add(m.parts[:i])
        if m.is_dir:
            dirs.add(m.parts)
        elif m.parts in files:
            raise _unsafe(f"`{m.name}` appears twice")
        else:
            files.add(m.parts)
    clash = files & dirs
    if clash:
        raise _unsafe(f"`{'/'.join(sorted(clash)[0])}` is both a file and a folder")


def _too_many(count: int, limits: ArchiveLimits) -> GradingError:
    return GradingError(
        ErrorCode.TOO_LARGE,
        f"The archive has more than {limits.max_entries:,} entries (found at least {count:,}). "
        "Upload only the folder written by `save_pretrained`, without checkpoints or datasets.",
    )


def _too_big(total: int, limits: ArchiveLimits, *, declared: bool) -> GradingError:
    what = "would unpack to" if declared else "unpacked to more than"
    return GradingError(
        ErrorCode.TOO_LARGE,
        f"The archive {what} {format_mb(total)}; the limit for this lab is "
        f"{format_mb(limits.max_uncompressed_bytes)} uncompressed. Upload only the folder "
        "written by `save_pretrained` (leave out checkpoints, optimizer state and datasets).",
    )


def _check_ratio(name: str, size: int, compressed: int) -> None:
    if size >= RATIO_MIN_BYTES and size > MAX_RATIO * max(compressed, 1):
        raise GradingError(
            ErrorCode.TOO_LARGE,
            f"`{name}` claims to unpack from {format_mb(compressed)} to {format_mb(size)} "
            f"(more than {MAX_RATIO}:1), which only happens with zip bombs. Real model files "
            "barely compress. Re-create the archive from the `save_pretrained` folder.",
        )


def _describe(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text[:200]


# --- writing -------------------------------------------------------------------------------------


class _Budget:
    """Counts bytes really written across the whole archive."""

    def __init__(self, limits: ArchiveLimits) -> None:
        self.limits = limits
        self.written = 0

    def add(self, n: int) -> None:
        self.written += n
        if self.written > self.limits.max_uncompressed_bytes:
            raise _too_big(self.written, self.limits, declared=False)


def copy_capped(src: IO[bytes], target: Path, *, declared: int, budget: _Budget) -> int:
    """Copy ``src`` into a new file ``target`` (never following or replacing anything).

    Stops as soon as the member yields more than its ``declared`` size or the archive as a whole
    goes over the budget, whatever the headers said.
    """
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    except OSError as exc:
        raise GradingError(
            ErrorCode.INTERNAL, f"Could not create {target.name}: {_describe(exc)}"
        ) from exc
    written = 0
    try:
        while True:
            chunk = src.read(_CHUNK)
            if not chunk:
                break
            written += len(chunk)
            if written > declared:
                raise GradingError(
                    ErrorCode.TOO_LARGE,
                    f"`{target.name}` unpacks to more than the {format_mb(declared)} its header "
                    f"declares; the archive is corrupt or a zip bomb. {UPLOAD_HINT}",
                )
            budget.add(len(chunk))
            _write_all(fd, chunk, target)
    finally:
        os.close(fd)
    return written


def _write_all(fd: int, data: bytes, target: Path) -> None:
    view = memoryview(data)
    while view:
        try:
            n = os.write(fd, view)
        except OSError as exc:
            raise GradingError(
                ErrorCode.INTERNAL, f"Could not write {target.name}: {_describe(exc)}"
            ) from exc
        view = view[n:]


def _make_dirs(dest: Path, parts: tuple[str, ...]) -> Path:
    current = dest
    for part in parts:
        current = current / part
        try:
            current.mkdir(mode=0o755)
        except FileExistsError:
            if current.is_symlink() or not current.is_dir():
                raise _unsafe(f"`{part}` is both a file and a folder") from None
    return current


def _write_plan(dest: Path, members: list[_Member], opener: Any, limits: ArchiveLimits) -> None:
    budget = _Budget(limits)
    for m in members:
        if is_junk(m.parts):
            continue
        if m.is_dir:
            _make_dirs(dest, m.parts)
            continue
        parent = _make_dirs(dest, m.parts[:-1])
        target = parent / m.parts[-1]
        # Belt and braces: the validated name must still resolve inside dest.
        if not target.resolve().is_relative_to(dest.resolve()):
            raise _unsafe(f"`{m.name}` resolves outside the archive folder")
        with opener(m) as src:
            copy_capped(src, target, declared=m.size, budget=budget)


def _empty(dest: Path) -> None:
    for child in dest.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


# --- zip -----------------------------------------------------------------------------------------


def _extract_zip(archive: Path, dest: Path, limits: ArchiveLimits) -> None:
    with archive.open("rb") as fh, zipfile.ZipFile(_check_zip_directory(fh, limits)) as zf:
        members = _zip_plan(zf, limits)
        _write_plan(dest, members, lambda m: zf.open(m.ref), limits)


def _check_zip_directory(fh: IO[bytes], limits: ArchiveLimits) -> IO[bytes]:
    # Read the end-of-central-directory record before zipfile builds one object per entry:
    # a 500 MB central directory would otherwise cost gigabytes of memory.
    endrec = zipfile._EndRecData(fh)  # type: ignore[attr-defined]
    if not endrec:
        raise GradingError(
            ErrorCode.INVALID_ARCHIVE, f"The zip file is corrupt or truncated. {UPLOAD_HINT}"
        )
    declared_entries = endrec[zipfile._ECD_ENTRIES_TOTAL]  # type: ignore[attr-defined]
    cd_size = endrec[zipfile._ECD_SIZE]  # type: ignore[attr-defined]
    if declared_entries > limits.max_entries:
        raise _too_many(declared_entries, limits)
    if cd_size > (limits.max_entries + 1) * 4096:
        raise _too_many(cd_size // 4096, limits)
    fh.seek(0)
    return fh


def _zip_plan(zf: zipfile.ZipFile, limits: ArchiveLimits) -> list[_Member]:
    infos = zf.infolist()
    if len(infos) > limits.max_entries:
        raise _too_many(len(infos), limits)
    members = list(_zip_members(infos, limits))
    if not any(not m.is_dir for m in members):
        raise GradingError(ErrorCode.INVALID_ARCHIVE, f"The archive is empty. {UPLOAD_HINT}")
    _check_plan(members)
    return members


def _zip_members(infos: list[zipfile.ZipInfo], limits: ArchiveLimits) -> Iterator[_Member]:
    total = 0
    for info in infos:
        parts = safe_parts(info.orig_filename)
        mode = info.external_attr >> 16
        kind = stat.S_IFMT(mode)
        if stat.S_ISLNK(mode):
            raise _unsafe(f"`{'/'.join(parts)}` is a symbolic link")
        if kind and kind not in (stat.S_IFREG, stat.S_IFDIR):
            raise _unsafe(f"`{'/'.join(parts)}` is a device, pipe or socket, not a plain file")
        is_dir = info.orig_filename.endswith(("/", "\\")) or kind == stat.S_IFDIR
        if not parts:
            if is_dir:
                continue  # "./"
            raise _unsafe(f"a member has an empty name (`{info.orig_filename!r}`)")
        if info.flag_bits & 0x1:
            raise GradingError(
                ErrorCode.INVALID_ARCHIVE,
                f"The archive is password-protected (`{'/'.join(parts)}` is encrypted). "
                f"Create it without a password. {UPLOAD_HINT}",
            )
        if info.compress_type not in _ZIP_METHODS:
            raise GradingError(
                ErrorCode.INVALID_ARCHIVE,
                f"`{'/'.join(parts)}` uses an unsupported compression method "
                f"({info.compress_type}). {UPLOAD_HINT}",
            )
        size = 0 if is_dir else info.file_size
        total += size
        if total > limits.max_uncompressed_bytes:
            raise _too_big(total, limits, declared=True)
        _check_ratio("/".join(parts), size, info.compress_size)
        yield _Member(parts=parts, is_dir=is_dir, size=size, ref=info)


# --- tar.gz --------------------------------------------------------------------------------------


class _BoundedStream:
    """A seekable view of the decompressed gzip stream that refuses to inflate past ``cap``.

    tarfile skips file data by seeking forward (which inflates) and reads pax / long-name headers
    in a single read; both are bounded here so a gzip bomb costs at most ``cap`` bytes of CPU
    and ``_MAX_TAR_READ`` bytes of memory. A pax payload announced by ``_CheckedTarInfo`` is
    vetted (see ``check_pax_payload``) before tarfile's own parser sees it.
    """

    def __init__(self, raw: gzip.GzipFile, cap: int, limits: ArchiveLimits) -> None:
        self._raw = raw
        self._cap = cap
        self._limits = limits
        self._pax_size: int | None = None

    def _guard(self, end: int) -> None:
        if end > self._cap:
            raise _too_big(end, self._limits, declared=False)

    def expect_pax(self, size: int) -> None:
        if size > MAX_PAX_BYTES:
            raise _unsafe(
                f"it contains a tar metadata (pax) header of {format_mb(size)}, "
                f"more than {MAX_PAX_BYTES // 1024} KB"
            )
        self._pax_size = size

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0 or n > _MAX_TAR_READ:
            raise _unsafe("it contains a tar metadata header larger than 1 MB")
        self._guard(self._raw.tell() + n)
        data = self._raw.read(n)
        if self._pax_size is not None:
            size, self._pax_size = self._pax_size, None
            check_pax_payload(data[:size])
        return data

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if whence == os.SEEK_SET:
            self._guard(offset)
        elif whence == os.SEEK_CUR:
            self._guard(self._raw.tell() + offset)
        else:
            raise ValueError("cannot seek from the end of a compressed stream")
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def close(self) -> None:  # tarfile does not own it
        pass


class _CheckedTarInfo(tarfile.TarInfo):
    """Announces pax payloads to ``_BoundedStream`` so they are vetted before being parsed.

    ``_proc_pax`` is tarfile's (private, long-stable) hook for pax headers; if a future Python
    renames it, this simply stops being called and tarfile's own (by then fixed) parser runs.
    """

    def _proc_pax(self, tarfile: tarfile.TarFile) -> tarfile.TarInfo:  # type: ignore[override]
        stream = tarfile.fileobj
        if isinstance(stream, _BoundedStream):
            stream.expect_pax(self.size)
        return super()._proc_pax(tarfile)  # type: ignore[misc]


_LONG_DIGITS = re.compile(rb"[0-9]{33}")


def check_pax_payload(data: bytes) -> None:
    """Reject pax headers that are malformed or built to make tarfile's regexes backtrack.

    Python < 3.11.10 parses pax headers with regexes that take quadratic time on long digit runs
    or repeated ``hdrcharset=`` (CVE-2024-6232); a 1 MB header can stall a worker for minutes.
    Well-formed records (``"<len> <key>=<value>\n"``), digit runs of at most 32 and at most one
    ``hdrcharset`` keep every one of those regexes linear.
    """
    pos = 0
    while pos < len(data):
        space = data.find(b" ", pos, pos + 21)
        digits = data[pos:space] if space > pos else b""
        length = int(digits) if digits.isdigit() else 0
        record = data[pos : pos + length]
        if length <= space - pos + 1 or len(record) != length or not record.endswith(b"\n"):
            raise _unsafe("it contains a malformed tar metadata (pax) header")
        if b"=" not in record[space - pos :]:
            raise _unsafe("it contains a malformed tar metadata (pax) header")
        pos += length
    if _LONG_DIGITS.search(data) or data.count(b"hdrcharset=") > 1:
        raise _unsafe("it contains a tar metadata (pax) header crafted to stall the unpacker")


def _extract_tar(archive: Path, dest: Path, limits: ArchiveLimits) -> None:
    with archive.open("rb") as fh, _open_tar(fh, limits) as tf:
        members = _tar_plan(tf, limits)
        _write_plan(dest, members, lambda m: _tar_open(tf, m), limits)


def _tar_plan(
    tf: tarfile.TarFile, limits: ArchiveLimits, on_member: Callable[[_Member], None] | None = None
) -> list[_Member]:
    members = _tar_members(tf, limits, on_member)
    if not any(not m.is_dir for m in members):
        raise GradingError(ErrorCode.INVALID_ARCHIVE, f"The archive is empty. {UPLOAD_HINT}")
    _check_plan(members)
    return members


@contextmanager
def _open_tar(fh: IO[bytes], limits: ArchiveLimits) -> Iterator[tarfile.TarFile]:
    cap = limits.max_uncompressed_bytes + (limits.max_entries + 4) * 8192 + 4 * MB
    with gzip.GzipFile(fileobj=fh, mode="rb") as gz:
        stream = _BoundedStream(gz, cap, limits)
        with tarfile.open(  # type: ignore[call-overload]
            fileobj=stream, mode="r:", tarinfo=_CheckedTarInfo
        ) as tf:
            yield tf


def _tar_open(tf: tarfile.TarFile, member: _Member) -> IO[bytes]:
    src = tf.extractfile(member.ref)
    if src is None:  # pragma: no cover - only regular files reach here
        raise _unsafe(f"`{member.name}` is not a plain file")
    return src


def _tar_members(
    tf: tarfile.TarFile, limits: ArchiveLimits, on_member: Callable[[_Member], None] | None = None
) -> list[_Member]:
    """Check every member while iterating, stopping as soon as a limit is crossed.

    ``on_member`` sees each member while the stream is at its data (a gzip stream only reads
    forward cheaply), so a listing can read a small file without a second pass."""
    members: list[_Member] = []
    total = 0
    count = 0
    for info in tf:
        count += 1
        if count > limits.max_entries:
            raise _too_many(count, limits)
        parts = safe_parts(info.name)
        shown = "/".join(parts) or info.name
        if info.issym():
            raise _unsafe(f"`{shown}` is a symbolic link")
        if info.islnk():
            raise _unsafe(f"`{shown}` is a hard link")
        if info.ischr() or info.isblk() or info.isfifo():
            raise _unsafe(f"`{shown}` is a device or pipe, not a plain file")
        if not (info.isreg() or info.isdir()):
            raise _unsafe(f"`{shown}` is not a plain file or folder (type {info.type!r})")
        if not parts:
            if info.isdir():
                continue
            raise _unsafe("a member has an empty name")
        size = info.size if info.isreg() else 0
        total += size
        if total > limits.max_uncompressed_bytes:
            raise _too_big(total, limits, declared=True)
        member = _Member(parts=parts, is_dir=info.isdir(), size=size, ref=info)
        members.append(member)
        if on_member is not None:
            on_member(member)
    return members
