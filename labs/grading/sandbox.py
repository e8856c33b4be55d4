"""Run one grading job in a throw-away child process.

A crash, an out-of-memory or a hang in the child never takes the (long-lived Celery) worker down;
each ends as a typed GradingError. The parent imports torch + transformers once (`warm_up()`,
5-7 s) and every job runs in a child forked from it, so a job starts in milliseconds with the
libraries already imported.

Isolation, per child:

* wall clock - the parent waits with a deadline, then SIGKILLs the child's whole process group:
  TIMEOUT.
* memory - see `_MemoryWatch`: a parent-side watchdog samples the child's resident memory every
  50 ms and SIGKILLs it over the cap; the child's own peak (VmHWM) is checked when it reports, so
  a job too quick for the sampler is judged the same; RLIMIT_DATA in the child is a backstop
  against one huge allocation landing between two samples: OUT_OF_MEMORY.
* network - the child gets its own empty network namespace when the kernel allows it (root, or
  unprivileged user namespaces), and in any case socket.socket / create_connection / getaddrinfo
  raise, and the Hugging Face libraries are switched to offline mode.
* files - a private temp dir (mode 700) is the child's cwd, TMPDIR, HOME and HF_HOME; the parent
  removes it in `finally`, even after killing the child.
* environment - the child keeps only an allowlist of variables (no DATABASE_URL, SECRET_KEY,
  tokens...), no core dumps, and dies with its parent (PR_SET_PDEATHSIG).

OpenMP and fork. torch's CPU build uses GNU OpenMP, which is not fork-safe: if the parent ever ran
a parallel torch op (even a 64x64 matmul), a forked child hangs forever in its first parallel
region. The pool belongs to the thread that created it, so the child runs the job in a brand-new
thread, which builds a fresh pool (measured: full multi-threaded speed, no hang). The worker should
still avoid torch compute in the parent, and must not initialise CUDA there: a forked child cannot
use CUDA if its parent initialised it (torch.cuda.is_available() in the parent is made safe by
PYTORCH_NVML_BASED_CUDA_CHECK=1, which warm_up() sets).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import gc
import logging
import multiprocessing
import os
import resource
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from labs.grading.errors import ErrorCode, GradingError, is_memory_error

logger = logging.getLogger(__name__)

POLL_INTERVAL_S = 0.05
_EXIT_OOM = 86  # the child's exit status when it ran out of memory and could not report it
_EXIT_CHILD_BUG = 87  # the child's own machinery failed before it could report
_MIB = 1024 * 1024

OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "DO_NOT_TRACK": "1",
}
# Variables a grading child may keep; everything else (credentials above all) is dropped.
_ENV_KEEP = {"PATH", "LANG", "LANGUAGE", "TZ", "LD_LIBRARY_PATH", "PYTHONHASHSEED", "TERM"}
_ENV_KEEP_PREFIXES = (
    "LC_",
    "OMP_",
    "MKL_",
    "KMP_",
    "GOMP_",
    "OPENBLAS_",
    "CUDA_",
    "NVIDIA_",
    "PYTORCH_",
    "TORCH_",
    "TOKENIZERS_",
)


@dataclass(frozen=True)
class SandboxLimits:
    timeout_s: float = 600.0
    memory_bytes: int = 4 * 1024**3  # growth of the child's resident memory after the fork
    # Added to the child's nice value (0-19): on a machine shared with the web server, the
    # grading job yields the CPU to requests (GRADING_NICE, docs/labs.md).
    nice: int = 0


# --------------------------------------------------------------------------------------------
# parent side


_LOADING_WARM = False


def warm_up() -> float:
    """Import torch + transformers (and the common model classes) into this process, once, and
    load a throw-away tiny model (`_warm_model_loading`), so forked grading children start
    warm. Does not initialise CUDA. Returns the seconds it took (0 when already warm)."""
    os.environ.setdefault("PYTORCH_NVML_BASED_CUDA_CHECK", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    already = "transformers.models.bert.modeling_bert" in sys.modules and _LOADING_WARM
    start = time.perf_counter()
    import safetensors.torch  # noqa: F401
    import sklearn.metrics  # noqa: F401
    import torch  # noqa: F401
    import transformers
    from transformers import (  # noqa: F401
        AutoConfig,
        AutoModelForSequenceClassification,
        AutoTokenizer,
    )

    # The architectures students fine-tune in the course; the rest load lazily in the child.
    for name in (
        "BertForSequenceClassification",
        "DistilBertForSequenceClassification",
        "RobertaForSequenceClassification",
        "BertTokenizer",
        "RobertaTokenizer",
    ):
        with contextlib.suppress(Exception):
            getattr(transformers, name)
    import labs.grading.inference  # noqa: F401

    _warm_model_loading()
    return 0.0 if already else time.perf_counter() - start


def _warm_model_loading() -> None:
    """Save and load a 1-layer, 8-wide BERT classifier and its tokenizer once in this process.

    transformers' first from_pretrained in a process costs 0.15-0.2 s more than later ones
    (first-call set-up, not imports: no module is imported by it), and every forked child used
    to pay it again. Measured on MiniLM-L6 in the child: model load 0.21-0.32 s from a cold
    parent, 0.08-0.13 s after this. Its tensors have a few hundred values, under torch's
    parallel grain size, so no OpenMP parallel region runs in the parent (module docstring).
    A failure here only costs that time: it is logged, never raised."""
    global _LOADING_WARM
    if _LOADING_WARM:
        return
    _LOADING_WARM = True
    try:
        import torch
        from transformers import (
            AutoModelForSequenceClassification,
            AutoTokenizer,
            BertConfig,
            BertForSequenceClassification,
            BertTokenizerFast,
        )
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # children disable it too; keeps worker logs clean
        vocab = {token: i for i, token in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "a"])}
        config = BertConfig(
            vocab_size=len(vocab),
            hidden_size=8,
            num_hidden_layers=1,
            num_attention_heads=2,
            intermediate_size=8,
            max_position_embeddings=8,
            num_labels=2,
        )
        with tempfile.TemporaryDirectory(prefix="coursebench-warm-") as folder:
            BertTokenizerFast(vocab=vocab).save_pretrained(folder)
            BertForSequenceClassification(config).save_pretrained(folder)
            AutoTokenizer.from_pretrained(folder, local_files_only=True)
            AutoModelForSequenceClassification.from_pretrained(
                folder, local_files_only=True, use_safetensors=True, dtype=torch.float32
            )
    except Exception:
        logger.warning("warming up model loading failed; grading carries on", exc_info=True)


def _read_status_kib(pid: int, field: str) -> int:
    try:
        with open(f"/proc/{pid}/status", "rb") as fh:
            for line in fh:
                if line.startswith(field.encode() + b":"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError, ValueError):
        pass
    return 0


def _descendants(pid: int) -> list[int]:
    found, stack = [], [pid]
    while stack:
        current = stack.pop()
        try:
            tids = os.listdir(f"/proc/{current}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                with open(f"/proc/{current}/task/{tid}/children", "rb") as fh:
                    kids = [int(k) for k in fh.read().split()]
            except OSError:
                continue
            found.extend(kids)
            stack.extend(kids)
    return found


def _tree_rss_bytes(pid: int) -> int:
    return sum(_read_status_kib(p, "VmRSS") for p in (pid, *_descendants(pid))) * 1024


class _MemoryWatch:
    """Why a parent-side RSS watchdog rather than a kernel limit alone:

    * RLIMIT_AS counts virtual address space. torch + transformers map gigabytes they never touch
      (libraries, thread stacks, allocator arenas, CUDA's huge reservations), so a cap tight
      enough to matter breaks loading, and a loose one does not protect.
    * cgroup v2 memory.max is the ideal, but needs a delegated cgroup the worker may not have.
    * Resident memory (VmRSS, from /proc/<pid>/status, ~20 us to read) is what actually costs
      RAM. The cap applies to the growth of the child's RSS (descendants included) over its RSS
      right after the fork, i.e. the parent's anonymous pages it shares copy-on-write. Counted:
      model weights (copied or mmapped), activations, and the library code pages the child
      touches (~30 MB for a small BERT) - slightly strict, never lenient. Not the parent's
      file-backed pages, which the child does not map yet: measuring against the parent's RSS
      left ~50-300 MB of unearned slack. (smaps_rollup's Private_* would be more exact, but costs
      ~16 ms per read on a torch process, too slow to poll.)
    * VmHWM: the child reports its own peak RSS with its result, so a job that finished between
      two samples is still judged on its peak (VmHWM starts at the fork-time RSS in a child).

    The gap: between two 50 ms samples a process can fault in a few hundred MB. RLIMIT_DATA in the
    child (private writable mappings, set to the inherited size + 2x cap) turns one giant
    allocation into an immediate MemoryError / allocator error instead of a trip to the system's
    OOM killer. It is skipped when an NVIDIA device is present, as CUDA's mappings would trip it.
    gc.freeze() before the fork keeps the child's garbage collector from copying every inherited
    object's page (measured: 131 MB -> 32 MB of private memory for one grading child).
    """

    def __init__(self, pid: int, cap: int) -> None:
        self.pid, self.cap = pid, cap
        self.baseline: int | None = None
        self.peak = 0
        self.sample()

    def sample(self) -> int:
        rss = _tree_rss_bytes(self.pid)
        if not rss:  # not readable (yet, or any more)
            return 0
        if self.baseline is None:
            self.baseline = rss
        used = max(0, rss - self.baseline)
        self.peak = max(self.peak, used)
        return used

    def over(self, reported_peak: int = 0) -> bool:
        self.peak = max(self.peak, int(reported_peak or 0))
        return self.sample() > self.cap or self.peak > self.cap


def _kill_tree(pid: int) -> None:
    # The child made itself a process-group leader (pgid == pid); before it got there, the
    # group does not exist yet and the plain kill below does it.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _mib(n: int) -> str:
    return f"{n / _MIB:,.0f} MiB"


def _timeout_error(limit: float) -> GradingError:
    return GradingError(
        ErrorCode.TIMEOUT,
        f"grading took longer than the {limit:g} s limit and was stopped. Submit a smaller model "
        "(e.g. a distilled or mini variant), or a tokenizer with a shorter model_max_length "
        "(max_length), so inference over the held-out set finishes in time.",
    )


def _oom_error(cap: int) -> GradingError:
    return GradingError(
        ErrorCode.OUT_OF_MEMORY,
        f"the model used more than the {_mib(cap)} memory limit while grading and was stopped. "
        "Submit a smaller model (fewer or narrower layers, a distilled variant), or a shorter "
        "max_length.",
    )


@contextlib.contextmanager
def _children_allowed():
    """Celery's prefork pool marks its processes daemonic, and multiprocessing refuses to start
    children from a daemonic process (so they can't be orphaned at exit). Our child is always
    joined or killed before run_isolated returns, so lifting the flag for start() is safe."""
    config = multiprocessing.current_process()._config
    was_daemon = config.get("daemon")
    config["daemon"] = False
    try:
        yield
    finally:
        if was_daemon is None:
            config.pop("daemon", None)
        else:
            config["daemon"] = was_daemon


def run_isolated(
    fn: Callable[..., Any],
    *args: Any,
    limits: SandboxLimits | None = None,
    **kwargs: Any,
) -> Any:
    """Run fn(*args, **kwargs) in a forked child and return its (picklable, plain-data) result.

    Raises the child's GradingError as it was raised there (e.g. LOAD_FAILED); TIMEOUT or
    OUT_OF_MEMORY when a limit was hit; INTERNAL for anything else (a crash, a signal, an
    unexpected exception: the grader's fault, never charged to the student).
    """
    limits = limits or SandboxLimits()
    ctx = multiprocessing.get_context("fork")
    workdir = tempfile.mkdtemp(prefix="coursebench-grade-")  # mode 0700
    receiver, sender = ctx.Pipe(duplex=False)
    proc = ctx.Process(
        target=_child_main,
        args=(sender, workdir, limits, fn, args, kwargs),
        name="coursebench-grading",
        daemon=True,
    )
    try:
        started = time.monotonic()
        gc.freeze()  # see _MemoryWatch
        try:
            with _children_allowed():
                proc.start()
        finally:
            gc.unfreeze()
        sender.close()
        watch = _MemoryWatch(proc.pid, int(limits.memory_bytes))
        deadline = started + float(limits.timeout_s)
        message, killed_for = _wait_for_child(receiver, watch, deadline)
        if killed_for:
            _kill_tree(proc.pid)
        proc.join(timeout=10)
        if proc.is_alive():  # it sent its result but does not exit: finish it
            _kill_tree(proc.pid)
            proc.join()
        exitcode = proc.exitcode
    finally:
        if proc.pid is not None and proc.exitcode is None:
            _kill_tree(proc.pid)
            proc.join()
        receiver.close()
        with contextlib.suppress(Exception):
            proc.close()
        shutil.rmtree(workdir, ignore_errors=True)

    return _child_outcome(message, exitcode, killed_for, watch, limits)


def _wait_for_child(receiver, watch: _MemoryWatch, deadline: float) -> tuple[Any, str | None]:
    """Wait for the child's message until the deadline or the memory cap; returns the message
    (None if the child died without a word) and what it must be killed for, if anything."""
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None, "timeout"
        if receiver.poll(min(POLL_INTERVAL_S, remaining)):
            try:
                return receiver.recv(), None
            except (EOFError, OSError):
                return None, None  # the child died without a word
        if watch.over():
            return None, "memory"


def _child_outcome(
    message: Any,
    exitcode: int | None,
    killed_for: str | None,
    watch: _MemoryWatch,
    limits: SandboxLimits,
) -> Any:
    """The child's result, or the GradingError its message, exit status or limit calls for."""
    if killed_for == "timeout":
        raise _timeout_error(limits.timeout_s)
    if message is not None and watch.over(message.get("peak", 0)):
        killed_for = "memory"  # finished between two samples, but its peak was over the cap
    if killed_for == "memory":
        logger.info("grading child over memory cap: peak growth %s", _mib(watch.peak))
        raise _oom_error(limits.memory_bytes)
    if message is not None:
        return _error_in_message(message, limits)
    if exitcode == _EXIT_OOM:
        raise _oom_error(limits.memory_bytes)
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        hint = (
            " (possibly the system's out-of-memory killer)" if -exitcode == signal.SIGKILL else ""
        )
        raise GradingError(
            ErrorCode.INTERNAL,
            f"the grading process was killed by {name}{hint}. This is not your fault and does not "
            "count against your submissions.",
        )
    raise GradingError(
        ErrorCode.INTERNAL,
        f"the grading process exited (status {exitcode}) without a result. This is not your "
        "fault and does not count against your submissions.",
    )


def _error_in_message(message: dict, limits: SandboxLimits) -> Any:
    """The result of an `ok` message; a GradingError for every other kind."""
    kind = message["kind"]
    if kind == "ok":
        return message["result"]
    if kind == "error":
        raise GradingError(ErrorCode(message["code"]), message["message"])
    if kind == "oom":
        raise _oom_error(limits.memory_bytes)
    raise GradingError(
        ErrorCode.INTERNAL,
        f"the grader failed unexpectedly: {message['message']}. This is not your fault and "
        "does not count against your submissions.",
    )


# --------------------------------------------------------------------------------------------
# child side


class NetworkDisabled(OSError):
    pass


def _no_network(*_args: Any, **_kwargs: Any):
    raise NetworkDisabled(errno.ENETUNREACH, "network access is disabled while grading")


class _NoSocket:
    """Stands in for socket.socket: constructing one fails."""

    def __new__(cls, *args: Any, **kwargs: Any):
        _no_network()


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def _unshare_network() -> bool:
    """Best effort: move the (single-threaded, just forked) child into an empty network
    namespace, so even native code cannot reach the network."""
    clone_newnet, clone_newuser = 0x40000000, 0x10000000
    try:
        libc = _libc()
        if libc.unshare(clone_newnet) == 0:
            return True
        uid, gid = os.getuid(), os.getgid()
        if libc.unshare(clone_newuser | clone_newnet) != 0:
            return False
        # Map our own ids so that getuid() and file ownership look unchanged.
        for path, text in (
            ("/proc/self/setgroups", "deny"),
            ("/proc/self/uid_map", f"{uid} {uid} 1"),
            ("/proc/self/gid_map", f"{gid} {gid} 1"),
        ):
            with contextlib.suppress(OSError), open(path, "w") as fh:
                fh.write(text)
        return True
    except (OSError, AttributeError):
        return False


def _block_sockets() -> None:
    import socket

    socket.socket = _NoSocket  # type: ignore[misc, assignment]
    socket.SocketType = _NoSocket  # type: ignore[misc, assignment]
    socket.create_connection = _no_network  # type: ignore[assignment]
    socket.create_server = _no_network  # type: ignore[assignment]
    socket.getaddrinfo = _no_network  # type: ignore[assignment]
    socket.gethostbyname = _no_network  # type: ignore[assignment]
    socket.gethostbyname_ex = _no_network  # type: ignore[assignment]


def _scrub_environment(workdir: str) -> None:
    for key in list(os.environ):
        if key not in _ENV_KEEP and not key.startswith(_ENV_KEEP_PREFIXES):
            del os.environ[key]
    os.environ.update(OFFLINE_ENV)
    for key in ("TMPDIR", "TEMP", "TMP", "HOME", "HF_HOME", "XDG_CACHE_HOME"):
        os.environ[key] = workdir
    os.environ["HF_HUB_CACHE"] = os.path.join(workdir, "hub")
    # Modules imported by the warm parent read these at import time: patch their copies too.
    hub = sys.modules.get("huggingface_hub.constants")
    if hub is not None:
        hub.HF_HUB_OFFLINE = True
        hub.HF_HOME = workdir
        hub.HF_HUB_CACHE = os.path.join(workdir, "hub")
        hub.HF_TOKEN_PATH = os.path.join(workdir, "token")
        hub.HF_HUB_DISABLE_TELEMETRY = True
    tempfile.tempdir = workdir


def _limit_memory(memory_bytes: int) -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if os.path.exists("/dev/nvidiactl"):
        return
    data_kib = _read_status_kib(os.getpid(), "VmData")
    if not data_kib:
        return
    limit = data_kib * 1024 + 2 * memory_bytes + 256 * _MIB
    _soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_DATA, (limit, hard))


def _child_setup(workdir: str, limits: SandboxLimits, parent_pid: int) -> None:
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2):
        signal.signal(sig, signal.SIG_DFL)  # not the Celery worker's handlers
    os.setpgid(0, 0)
    with contextlib.suppress(OSError, AttributeError):
        _libc().prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: die with the parent
    if os.getppid() != parent_pid:  # the parent died before prctl
        os._exit(_EXIT_CHILD_BUG)
    _unshare_network()  # before any thread starts: unshare needs a single-threaded process
    _block_sockets()
    _scrub_environment(workdir)
    os.chdir(workdir)
    _limit_memory(int(limits.memory_bytes))
    if limits.nice:
        # Before the job's threads start: they inherit it (Linux nice is per thread).
        os.nice(limits.nice)


def _child_main(conn, workdir: str, limits: SandboxLimits, fn, args, kwargs) -> None:
    parent_pid = os.getppid()
    start_rss = _read_status_kib(os.getpid(), "VmRSS") * 1024
    outcome: list[dict] = []

    def job() -> None:
        # A fresh thread: a fresh OpenMP pool (see the module docstring).
        try:
            outcome.append({"kind": "ok", "result": fn(*args, **kwargs)})
        except GradingError as exc:
            outcome.append({"kind": "error", "code": exc.code.value, "message": exc.message})
        except BaseException as exc:
            if is_memory_error(exc):
                outcome.append({"kind": "oom"})
            else:
                text = str(exc).strip().splitlines()
                first = f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
                sys.stderr.write("".join(traceback.format_exception(exc)))
                outcome.append({"kind": "internal", "message": first[:500]})

    try:
        _child_setup(workdir, limits, parent_pid)
        worker = threading.Thread(target=job, name="grading-job", daemon=True)
        worker.start()
        worker.join()
        message = (
            outcome[0] if outcome else {"kind": "internal", "message": "the job ended silently"}
        )
        hwm = _read_status_kib(os.getpid(), "VmHWM") * 1024
        message["peak"] = max(0, hwm - start_rss) if hwm and start_rss else 0
        try:
            conn.send(message)
        except MemoryError:
            os._exit(_EXIT_OOM)
        except Exception as exc:  # e.g. an unpicklable result
            reason = f"could not send the result back: {type(exc).__name__}: {exc}"
            conn.send({"kind": "internal", "message": reason, "peak": message["peak"]})
    except MemoryError:
        os._exit(_EXIT_OOM)
    except BaseException:
        with contextlib.suppress(Exception):
            traceback.print_exc()
        os._exit(_EXIT_CHILD_BUG)
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
    os._exit(0)
