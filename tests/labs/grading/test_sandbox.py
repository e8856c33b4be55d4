import faulthandler
import os
import signal
import socket
import stat
import sys
import time
from pathlib import Path

import pytest

from labs.grading import sandbox
from labs.grading.errors import ErrorCode, GradingError
from labs.grading.sandbox import SandboxLimits, run_isolated

QUICK = SandboxLimits(timeout_s=30, memory_bytes=1024**3)


def _raises(code, fn, *args, limits=QUICK, **kwargs) -> GradingError:
    with pytest.raises(GradingError) as info:
        run_isolated(fn, *args, limits=limits, **kwargs)
    assert info.value.code == code, info.value
    return info.value


def test_the_result_comes_back_as_plain_data_from_another_process():
    def job(a, b, *, scale):
        return {"sum": (a + b) * scale, "pid": os.getpid()}

    result = run_isolated(job, 2, 3, scale=10, limits=QUICK)

    assert result["sum"] == 50
    assert result["pid"] != os.getpid()


def test_a_hanging_job_is_a_timeout_and_the_parent_runs_the_next_job(tmp_path):
    marker = tmp_path / "cwd.txt"

    def hang():
        marker.write_text(os.getcwd())
        time.sleep(60)

    started = time.monotonic()
    error = _raises(ErrorCode.TIMEOUT, hang, limits=SandboxLimits(timeout_s=1.0))

    assert time.monotonic() - started < 20
    assert "1 s limit" in error.message and "max_length" in error.message
    # The child's private temp dir is gone although the child was killed.
    assert not Path(marker.read_text()).exists()
    assert run_isolated(lambda: "next", limits=QUICK) == "next"


def test_memory_growth_over_the_cap_is_out_of_memory():
    def grow():
        chunks = []
        for _ in range(70):  # up to 700 MB, 10 MB at a time
            chunks.append(bytearray(10 * 1024 * 1024))
            time.sleep(0.01)
        return "survived"

    error = _raises(ErrorCode.OUT_OF_MEMORY, grow, limits=SandboxLimits(30, 300 * 1024**2))

    assert "300 MiB" in error.message


def test_one_huge_allocation_is_out_of_memory_too():
    def allocate():
        block = bytearray(3 * 1024**3)
        return len(block)

    _raises(ErrorCode.OUT_OF_MEMORY, allocate, limits=SandboxLimits(30, 300 * 1024**2))


def test_a_child_that_exits_without_a_result_is_internal():
    error = _raises(ErrorCode.INTERNAL, os._exit, 3)

    assert "status 3" in error.message


def test_a_segfaulting_child_is_internal_with_the_signal_name():
    def crash():
        faulthandler.disable()  # keep pytest's crash dump out of the test output
        os.kill(os.getpid(), signal.SIGSEGV)

    error = _raises(ErrorCode.INTERNAL, crash)

    assert "SIGSEGV" in error.message


def test_an_unexpected_exception_is_internal_and_a_grading_error_keeps_its_code():
    def boom():
        raise ValueError("bad thing\nsecond line")

    def reject():
        raise GradingError(ErrorCode.LOAD_FAILED, "cannot load")

    assert "ValueError: bad thing" in _raises(ErrorCode.INTERNAL, boom).message
    assert _raises(ErrorCode.LOAD_FAILED, reject).message == "cannot load"


def test_the_child_cannot_open_network_connections():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]

    def attempts():
        outcomes = {}
        for name, action in {
            "create_connection": lambda: socket.create_connection(("127.0.0.1", port), 2),
            "socket": lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM),
            "getaddrinfo": lambda: socket.getaddrinfo("huggingface.co", 443),
        }.items():
            try:
                action()
                outcomes[name] = "allowed"
            except OSError as exc:
                outcomes[name] = f"refused: {exc}"
        return outcomes

    try:
        outcomes = run_isolated(attempts, limits=QUICK)
    finally:
        server.close()

    assert all(v.startswith("refused") for v in outcomes.values()), outcomes
    # The parent itself is untouched.
    socket.socket().close()


def test_the_child_is_offline_in_a_private_temp_dir_without_the_workers_secrets(monkeypatch):
    monkeypatch.setenv("COURSEBENCH_TEST_SECRET", "s3cret")

    def inspect():
        import tempfile

        import huggingface_hub.constants as hub

        cwd = os.getcwd()
        return {
            "env": dict(os.environ),
            "cwd": cwd,
            "mode": stat.S_IMODE(os.stat(cwd).st_mode),
            "tempdir": tempfile.gettempdir(),
            "hub_offline": hub.HF_HUB_OFFLINE,
        }

    seen = run_isolated(inspect, limits=QUICK)

    env = seen["env"]
    for key in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
        assert env[key] == "1"
    assert seen["hub_offline"] is True
    assert env["TMPDIR"] == env["HF_HOME"] == seen["cwd"] == seen["tempdir"]
    assert seen["mode"] == 0o700
    assert "COURSEBENCH_TEST_SECRET" not in env
    assert os.environ["COURSEBENCH_TEST_SECRET"] == "s3cret"
    assert not Path(seen["cwd"]).exists()


def test_children_run_multithreaded_torch_even_after_the_parent_used_openmp():
    # GNU OpenMP is not fork-safe: without the fresh job thread this child hangs forever.
    import torch

    torch.ones(64, 64) @ torch.ones(64, 64)

    def matmul():
        torch.set_num_threads(2)
        a = torch.ones(256, 256)
        return float((a @ a).sum()), float(torch.ones(1_000_000).exp().sum())

    product, _ = run_isolated(matmul, limits=SandboxLimits(timeout_s=60, memory_bytes=1024**3))

    assert product == 256.0**3


def test_a_timeout_also_kills_the_processes_the_job_started(tmp_path):
    pidfile = tmp_path / "grandchild.pid"

    def spawn_and_hang():
        import subprocess

        child = subprocess.Popen(["sleep", "60"])
        pidfile.write_text(str(child.pid))
        time.sleep(60)

    _raises(ErrorCode.TIMEOUT, spawn_and_hang, limits=SandboxLimits(timeout_s=1.0))

    pid = int(pidfile.read_text())
    for _ in range(100):
        if not _alive(pid):
            break
        time.sleep(0.05)
    else:
        pytest.fail(f"grandchild {pid} survived the timeout")


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")  # a killed zombie waiting to be reaped is dead


def test_warm_up_imports_the_libraries_once_without_initialising_cuda():
    import torch

    from labs.grading.sandbox import warm_up

    warm_up()

    assert "transformers.models.bert.modeling_bert" in sys.modules
    assert sandbox._LOADING_WARM  # a tiny model was loaded once, in this process
    assert warm_up() == 0.0  # already warm
    assert not torch.cuda.is_initialized()
    assert os.environ.get("PYTORCH_NVML_BASED_CUDA_CHECK") == "1"


def test_a_job_that_peaks_over_the_cap_between_two_samples_is_still_out_of_memory():
    def spike():
        block = bytearray(400 * 1024 * 1024)  # touched (zero-filled), then freed at once
        del block
        return "done"

    _raises(ErrorCode.OUT_OF_MEMORY, spike, limits=SandboxLimits(30, 150 * 1024**2))


def test_a_job_well_under_the_cap_is_not_out_of_memory():
    def small():
        return len(bytearray(20 * 1024 * 1024))

    assert run_isolated(small, limits=SandboxLimits(30, 200 * 1024**2)) == 20 * 1024 * 1024


def test_the_job_runs_at_the_niceness_asked_for_and_the_parent_keeps_its_own():
    parent = os.nice(0)
    limits = SandboxLimits(timeout_s=30, memory_bytes=1024**3, nice=7)

    child = run_isolated(lambda: os.nice(0), limits=limits)

    assert child == min(parent + 7, 19)
    assert os.nice(0) == parent
