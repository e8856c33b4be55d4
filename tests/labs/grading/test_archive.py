"""extract_archive: only plain files with safe relative names, within the lab's limits."""

from __future__ import annotations

import io
import os
import tarfile
import time
import zipfile
from pathlib import Path

import pytest

from labs.grading.archive import (
    DEFAULT_LIMITS,
    ArchiveLimits,
    _Budget,
    copy_capped,
    extract_archive,
)
from labs.grading.errors import ErrorCode, GradingError
from tests.labs.grading.hostile import (
    gzip_bytes,
    patch_bytes,
    tar_dir,
    tar_entries,
    tar_file,
    tar_special,
    truncate,
    write_model_dir,
    zip_dir,
    zip_entries,
    zip_marked_encrypted,
    zip_symlink,
    zip_with_lying_size,
    zip_with_nul_name,
)

SMALL = ArchiveLimits(max_upload_bytes=10 * 1024**2, max_uncompressed_bytes=1024**2, max_entries=10)


@pytest.fixture
def dest(tmp_path: Path) -> Path:
    d = tmp_path / "work" / "model"
    d.mkdir(parents=True, mode=0o700)
    return d


def reject(archive: Path, dest: Path, limits: ArchiveLimits = DEFAULT_LIMITS) -> GradingError:
    with pytest.raises(GradingError) as info:
        extract_archive(archive, dest, limits=limits)
    assert list(dest.iterdir()) == [], "a rejected archive must leave nothing behind"
    return info.value


def assert_nothing_escaped(tmp_path: Path) -> None:
    assert not list(tmp_path.rglob("evil*")), "a file was written outside dest"
    assert not Path("/tmp/evil.txt").exists()


# --- valid archives ------------------------------------------------------------------------------


def test_it_extracts_a_zip_whose_files_are_at_the_top_level(tmp_path, dest):
    model = write_model_dir(tmp_path / "src")
    root = extract_archive(zip_dir(model, tmp_path / "up.zip"), dest)
    assert root == dest
    assert sorted(p.name for p in root.iterdir()) == sorted(p.name for p in model.iterdir())
    assert (root / "model.safetensors").read_bytes() == (model / "model.safetensors").read_bytes()


def test_it_returns_the_single_top_level_folder_of_a_tar_gz(tmp_path, dest):
    model = write_model_dir(tmp_path / "src")
    root = extract_archive(tar_dir(model, tmp_path / "up.tgz", prefix="my-model/"), dest)
    assert root == dest / "my-model"
    assert (root / "config.json").is_file()


def test_it_finds_config_json_two_levels_down(tmp_path, dest):
    model = write_model_dir(tmp_path / "src")
    root = extract_archive(zip_dir(model, tmp_path / "up.zip", prefix="outputs/final/"), dest)
    assert root == dest / "outputs" / "final"


def test_it_detects_the_format_by_magic_bytes_not_the_extension(tmp_path, dest):
    model = write_model_dir(tmp_path / "src")
    misnamed = zip_dir(model, tmp_path / "upload.tar.gz")
    assert extract_archive(misnamed, dest) == dest


def test_it_skips_macos_junk_when_finding_the_model_folder(tmp_path, dest):
    model = write_model_dir(tmp_path / "src")
    junk = {"__MACOSX/my-model/._config.json": b"\0", "my-model/.DS_Store": b"\0", ".DS_Store": b""}
    archive = zip_dir(model, tmp_path / "up.zip", prefix="my-model/", extra=junk)
    root = extract_archive(archive, dest)
    assert root == dest / "my-model"
    assert not (dest / "__MACOSX").exists()
    assert not (root / ".DS_Store").exists()


def test_extracted_files_are_plain_and_not_executable(tmp_path, dest):
    info = zipfile.ZipInfo("config.json")
    info.external_attr = (0o104755) << 16  # setuid, executable
    root = extract_archive(zip_entries(tmp_path / "up.zip", [(info, b"{}")]), dest)
    mode = (root / "config.json").stat().st_mode
    assert not mode & 0o7111


# --- invalid_archive -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        os.urandom(4096).replace(b"PK", b"pk").replace(b"\x1f\x8b", b"xx"),
        b"model weights are in my google drive, see link\n",
        gzip_bytes(b"just one gzipped file, not a tar"),
        b"",
    ],
    ids=["garbage", "text", "gzip-not-tar", "empty-file"],
)
def test_it_rejects_files_that_are_not_archives(tmp_path, dest, content):
    upload = tmp_path / "model.zip"
    upload.write_bytes(content)
    error = reject(upload, dest)
    assert error.code == ErrorCode.INVALID_ARCHIVE
    assert "Upload a .zip or .tar.gz of the folder written by `model.save_pretrained(...)`" in (
        error.message
    )


def test_it_rejects_a_truncated_zip(tmp_path, dest):
    model = write_model_dir(tmp_path / "src")
    error = reject(truncate(zip_dir(model, tmp_path / "up.zip")), dest)
    assert error.code == ErrorCode.INVALID_ARCHIVE
    assert "corrupt or truncated" in error.message


def test_it_rejects_a_truncated_tar_gz(tmp_path, dest):
    model = write_model_dir(tmp_path / "src")
    error = reject(truncate(tar_dir(model, tmp_path / "up.tgz"), keep=0.6), dest)
    assert error.code == ErrorCode.INVALID_ARCHIVE
    assert "corrupt or truncated" in error.message


@pytest.mark.parametrize("fmt", ["zip", "tgz"])
def test_it_rejects_an_empty_archive(tmp_path, dest, fmt):
    upload = tmp_path / f"up.{fmt}"
    if fmt == "zip":
        zipfile.ZipFile(upload, "w").close()
    else:
        tarfile.open(upload, "w:gz").close()
    error = reject(upload, dest)
    assert error.code == ErrorCode.INVALID_ARCHIVE
    assert "empty" in error.message


def test_it_rejects_a_password_protected_zip(tmp_path, dest):
    error = reject(zip_marked_encrypted(tmp_path / "up.zip"), dest)
    assert error.code == ErrorCode.INVALID_ARCHIVE
    assert "password" in error.message


# --- unsafe_archive ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["../../evil.txt", "/tmp/evil.txt", "..\\..\\evil.txt", "C:/evil.txt"]
)
def test_it_rejects_zip_slip_and_absolute_paths_in_a_zip(tmp_path, dest, name):
    error = reject(zip_entries(tmp_path / "up.zip", [("config.json", b"{}"), (name, b"x")]), dest)
    assert error.code == ErrorCode.UNSAFE_ARCHIVE
    assert ("absolute path" in error.message) or ("`..`" in error.message)
    assert_nothing_escaped(tmp_path)


@pytest.mark.parametrize("name", ["../../evil.txt", "/tmp/evil.txt", "model/../../evil.txt"])
def test_it_rejects_tar_slip_and_absolute_paths_in_a_tar(tmp_path, dest, name):
    upload = tar_entries(
        tmp_path / "up.tgz", [tar_file("config.json", b"{}"), tar_file(name, b"x")]
    )
    error = reject(upload, dest)
    assert error.code == ErrorCode.UNSAFE_ARCHIVE
    assert ("absolute path" in error.message) or ("`..`" in error.message)
    assert_nothing_escaped(tmp_path)


def test_it_checks_every_member_before_writing_anything(tmp_path, dest):
    upload = zip_entries(
        tmp_path / "up.zip",
        [("config.json", b"{}"), ("tokenizer.json", b"{}"), ("../evil.txt", b"x")],
    )
    error = reject(upload, dest)
    assert error.code == ErrorCode.UNSAFE_ARCHIVE
    assert "`../evil.txt`" in error.message


def test_it_rejects_a_nul_byte_in_a_zip_member_name(tmp_path, dest):
    error = reject(zip_with_nul_name(tmp_path / "up.zip"), dest)
    assert error.code == ErrorCode.UNSAFE_ARCHIVE
    assert "NUL byte" in error.message


def test_it_rejects_a_symlink_in_a_zip(tmp_path, dest):
    error = reject(zip_symlink(tmp_path / "up.zip", "tokenizer.json", "/etc/passwd"), dest)
    assert error.code == ErrorCode.UNSAFE_ARCHIVE
    assert "`tokenizer.json` is a symbolic link" in error.message
    assert not (dest / "tokenizer.json").is_symlink()


def test_it_rejects_a_fifo_in_a_zip(tmp_path, dest):
    info = zipfile.ZipInfo("pipe")
    info.external_attr = 0o010644 << 16  # S_IFIFO
    error = reject(zip_entries(tmp_path / "up.zip", [(info, b"")]), dest)
    assert error.code == ErrorCode.UNSAFE_ARCHIVE
    assert "not a plain file" in error.message


@pytest.mark.parametrize(
    ("member", "reason"),
    [
        (tar_special("tokenizer.json", tarfile.SYMTYPE, "/etc/passwd"), "is a symbolic link"),
        (tar_special("config.json", tarfile.LNKTYPE, "/etc/passwd"), "is a hard link"),
        (tar_special("model.safetensors", tarfile.FIFOTYPE), "is a device or pipe"),
        (tar_special("vocab.txt", tarfile.CHRTYPE), "is a device or pipe"),
        (tar_special("vocab.txt", tarfile.BLKTYPE), "is a device or pipe"),
    ],
    ids=["symlink", "hardlink", "fifo", "char-device", "block-device"],
)
def test_it_rejects_links_and_devices_in_a_tar(tmp_path, dest, member, reason):
    upload = tar_entries(tmp_path / "up.tgz", [tar_file("README.md", b"hi"), member])
    error = reject(upload, dest)
    assert error.code == ErrorCode.UNSAFE_ARCHIVE
    assert reason in error.message
    assert "plain files and folders" in error.message


def test_it_rejects_a_path_that_appears_twice(tmp_path, dest):
    upload = tar_entries(
        tmp_path / "up.tgz", [tar_file("config.json", b"{}"), tar_file("config.json", b"[]")]
    )
    error = reject(upload, dest)
    assert error.code == ErrorCode.UNSAFE_ARCHIVE
    assert "appears twice" in error.message


def test_it_rejects_an_oversized_tar_metadata_header(tmp_path, dest):
    info, data = tar_file("config.json", b"{}")
    info.pax_headers = {"comment": "x" * (200 * 1024)}
    upload = tar_entries(tmp_path / "up.tgz", [(info, data)], format=tarfile.PAX_FORMAT)
    error = reject(upload, dest)
    assert error.code == ErrorCode.UNSAFE_ARCHIVE
    assert "tar metadata (pax) header of 0.2 MB, more than 64 KB" in error.message


def test_it_rejects_a_pax_header_built_to_stall_the_tar_parser(tmp_path, dest):
    # Python < 3.11.10 takes ~minutes on this (CVE-2024-6232); it must be refused up front.
    info, data = tar_file("config.json", b"{}")
    info.pax_headers = {"comment": "1" * 60_000}
    upload = tar_entries(tmp_path / "up.tgz", [(info, data)], format=tarfile.PAX_FORMAT)
    started = time.monotonic()
    error = reject(upload, dest)
    assert time.monotonic() - started < 2
    assert error.code == ErrorCode.UNSAFE_ARCHIVE
    assert "crafted to stall" in error.message


def test_it_accepts_ordinary_pax_headers(tmp_path, dest):
    info, data = tar_file("config.json", b"{}")
    info.pax_headers = {"comment": "made on a Mac", "SCHILY.xattr.com.apple.provenance": "AQAA"}
    long_name = "a-rather-long-folder-name-" * 5 + "/config.json"
    long_info, _ = tar_file(long_name, b"{}")
    upload = tar_entries(
        tmp_path / "up.tgz", [(info, data), (long_info, b"{}")], format=tarfile.PAX_FORMAT
    )
    extract_archive(upload, dest)
    assert (dest / "config.json").read_bytes() == b"{}"
    assert (dest / long_name).is_file()


# --- too_large -----------------------------------------------------------------------------------


def test_it_rejects_an_upload_over_the_size_limit(tmp_path, dest):
    upload = zip_entries(tmp_path / "up.zip", [("model.safetensors", os.urandom(2 * 1024**2))])
    error = reject(upload, dest, ArchiveLimits(max_upload_bytes=1024**2))
    assert error.code == ErrorCode.TOO_LARGE
    assert "The upload is 2.0 MB; the limit for this lab is 1.0 MB" in error.message


@pytest.mark.parametrize("fmt", ["zip", "tgz"])
def test_it_rejects_too_many_entries(tmp_path, dest, fmt):
    files = [(f"file{i}.txt", b"x") for i in range(11)]
    if fmt == "zip":
        upload = zip_entries(tmp_path / "up.zip", files)
    else:
        upload = tar_entries(tmp_path / "up.tgz", [tar_file(n, d) for n, d in files])
    error = reject(upload, dest, SMALL)
    assert error.code == ErrorCode.TOO_LARGE
    assert "more than 10 entries" in error.message


@pytest.mark.parametrize("fmt", ["zip", "tgz"])
def test_it_rejects_an_archive_that_declares_too_much_uncompressed_data(tmp_path, dest, fmt):
    zeros = bytes(5 * 1024**2)
    if fmt == "zip":
        upload = zip_entries(tmp_path / "up.zip", [("model.safetensors", zeros)])
    else:
        upload = tar_entries(tmp_path / "up.tgz", [tar_file("model.safetensors", zeros)])
    assert upload.stat().st_size < 100_000  # a (small) bomb
    error = reject(upload, dest, SMALL)
    assert error.code == ErrorCode.TOO_LARGE
    assert "would unpack to 5.0 MB; the limit for this lab is 1.0 MB uncompressed" in error.message


def test_a_zip_whose_header_understates_the_size_never_writes_past_the_claim(tmp_path, dest):
    upload = zip_with_lying_size(tmp_path / "up.zip", "model.safetensors", 5 * 1024**2, 1000)
    error = reject(upload, dest, SMALL)
    # zipfile stops at the declared size, then the checksum no longer matches.
    assert error.code == ErrorCode.INVALID_ARCHIVE
    assert "corrupt or truncated" in error.message


def test_byte_counting_stops_a_member_that_is_bigger_than_its_header_says(tmp_path):
    target = tmp_path / "model.safetensors"
    with pytest.raises(GradingError) as info:
        copy_capped(io.BytesIO(bytes(3 * 1024**2)), target, declared=1000, budget=_Budget(SMALL))
    assert info.value.code == ErrorCode.TOO_LARGE
    assert "more than the 1,000 bytes its header declares" in info.value.message
    assert target.stat().st_size <= 1024**2  # stopped at the first chunk


def test_byte_counting_stops_when_the_whole_archive_goes_over_the_limit(tmp_path):
    budget = _Budget(SMALL)
    copy_capped(io.BytesIO(bytes(600_000)), tmp_path / "a", declared=600_000, budget=budget)
    with pytest.raises(GradingError) as info:
        copy_capped(io.BytesIO(bytes(600_000)), tmp_path / "b", declared=600_000, budget=budget)
    assert info.value.code == ErrorCode.TOO_LARGE
    assert "unpacked to more than 1.1 MB" in info.value.message
    assert not (tmp_path / "b").stat().st_size


def test_it_rejects_an_absurd_compression_ratio(tmp_path, dest):
    upload = zip_entries(tmp_path / "up.zip", [("model.safetensors", bytes(17 * 1024**2))])
    error = reject(upload, dest)
    assert error.code == ErrorCode.TOO_LARGE
    assert "zip bomb" in error.message
    assert "to 17.0 MB" in error.message


def test_copy_never_follows_or_replaces_an_existing_path(tmp_path):
    (tmp_path / "outside.txt").write_text("keep")
    link = tmp_path / "config.json"
    link.symlink_to(tmp_path / "outside.txt")
    with pytest.raises(GradingError) as info:
        copy_capped(io.BytesIO(b"{}"), link, declared=2, budget=_Budget(SMALL))
    assert info.value.code == ErrorCode.INTERNAL
    assert (tmp_path / "outside.txt").read_text() == "keep"


def test_it_refuses_a_non_empty_destination(tmp_path, dest):
    (dest / "leftover").write_text("x")
    upload = zip_entries(tmp_path / "up.zip", [("config.json", b"{}")])
    with pytest.raises(GradingError) as info:
        extract_archive(upload, dest)
    assert info.value.code == ErrorCode.INTERNAL
    assert "not empty" in info.value.message


def test_patch_helper_is_length_preserving(tmp_path):
    f = tmp_path / "f"
    f.write_bytes(b"abc")
    with pytest.raises(AssertionError):
        patch_bytes(f, b"abc", b"ab")
