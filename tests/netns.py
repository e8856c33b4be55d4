"""Another host for multi-host tests: a Linux network namespace joined to this one by a veth
pair, with TCP forwarders (socat) that make this machine's services reachable on the veth.

A process started with `host.command_prefix()` (`ip netns exec NAME`) sees only its own
loopback and the veth: it reaches PostgreSQL, Redis or an S3 server only through
`host.forward(...)`, which listens on this side's veth address (`host.gateway`) and relays to
the service's loopback address. Services are never rebound or restarted for it.

Names are unique per run (the pid and a counter; Linux limits interface names to 15
characters), and the namespace, the veth pair, the forwarders and anything still running
inside are removed on exit, even when the test fails. Creating namespaces needs root (or
CAP_NET_ADMIN + CAP_SYS_ADMIN): `netns_unavailable()` says why they cannot be made here.
"""

from __future__ import annotations

import contextlib
import functools
import ipaddress
import itertools
import os
import random
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field

from tests.realproc import spare_port, wait_for_port

_counter = itertools.count(1)


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)
    if check and done.returncode:
        raise RuntimeError(f"ip {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")
    return done


@functools.cache  # one probe per test process, however many modules ask
def netns_unavailable() -> str | None:
    """None when this process can create network namespaces and veth pairs; else why not."""
    if shutil.which("ip") is None:
        return "the `ip` command (iproute2) is not installed"
    if shutil.which("socat") is None:
        return "`socat` is not installed (it relays the services into the namespace)"
    probe = f"cbprobe{os.getpid() % 100000}"
    done = _ip("netns", "add", probe, check=False)
    if done.returncode:
        return (
            f"`ip netns add` failed (uid {os.geteuid()}; needs root or CAP_SYS_ADMIN + "
            f"CAP_NET_ADMIN): {done.stderr.strip()}"
        )
    try:
        veth = _ip(
            "link", "add", f"{probe}a", "type", "veth", "peer", "name", f"{probe}b", check=False
        )
        if veth.returncode:
            return f"`ip link add ... type veth` failed: {veth.stderr.strip()}"
        _ip("link", "del", f"{probe}a", check=False)
    finally:
        _ip("netns", "del", probe, check=False)
    return None


def _used_networks() -> list[ipaddress.IPv4Network]:
    out = _ip("-o", "-4", "addr", "show").stdout
    found = []
    for line in out.splitlines():
        parts = line.split()
        if "inet" in parts:
            found.append(ipaddress.ip_interface(parts[parts.index("inet") + 1]).network)
    return found


def _free_subnet() -> ipaddress.IPv4Network:
    """A /30 in 10.213.0.0/16 that no interface of this machine uses (two tests running at
    once each pick their own)."""
    used = _used_networks()
    for _ in range(200):
        net = ipaddress.ip_network(f"10.213.{random.randrange(256)}.{4 * random.randrange(64)}/30")
        if not any(net.overlaps(u) for u in used):
            return net
    raise RuntimeError("no free /30 in 10.213.0.0/16 for a veth pair")


@dataclass
class NetnsHost:
    """A namespace and the veth pair to it: `gateway` is this side's address, `address` the
    namespace's own."""

    name: str
    gateway: str
    address: str
    _forwarders: list[subprocess.Popen] = field(default_factory=list)

    def command_prefix(self) -> list[str]:
        return ["ip", "netns", "exec", self.name]

    def run(self, *args: str, timeout: float = 30) -> subprocess.CompletedProcess:
        """Run a command inside the namespace (a quick one: it is waited for)."""
        return subprocess.run(
            [*self.command_prefix(), *args], capture_output=True, text=True, timeout=timeout
        )

    def can_connect(self, host: str, port: int) -> bool:
        """Whether a TCP connection from inside the namespace to host:port succeeds."""
        probe = (
            "import socket,sys\n"
            "try: socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2)\n"
            "except OSError: sys.exit(1)\n"
        )
        return self.run(sys.executable, "-c", probe, host, str(port)).returncode == 0

    def forward(self, target_port: int, *, target_host: str = "127.0.0.1") -> int:
        """Relay connections to `gateway:<returned port>` on to target_host:target_port (a
        service on this machine's loopback). Returns the port to use from the namespace."""
        port = spare_port(self.gateway)
        process = subprocess.Popen(
            [
                "socat",
                f"TCP-LISTEN:{port},bind={self.gateway},fork,reuseaddr",
                f"TCP:{target_host}:{target_port}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self._forwarders.append(process)
        wait_for_port(self.gateway, port)
        return port

    def _stop_forwarders(self) -> None:
        for process in self._forwarders:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in self._forwarders:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
        self._forwarders.clear()

    def _kill_inside(self) -> None:
        """Whatever a test left running in the namespace (it is this test's own)."""
        pids = _ip("netns", "pids", self.name, check=False).stdout.split()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pid), signal.SIGKILL)


@contextlib.contextmanager
def netns_host(prefix: str = "cb") -> Iterator[NetnsHost]:
    """A fresh namespace `<prefix><pid><n>` with a veth pair to this namespace."""
    tag = f"{prefix}{os.getpid() % 100000}{next(_counter)}"[:11]
    outside, inside = f"{tag}h", f"{tag}n"
    subnet = _free_subnet()
    gateway, address = (str(a) for a in list(subnet.hosts())[:2])
    host = NetnsHost(name=tag, gateway=gateway, address=address)
    try:
        _ip("netns", "add", tag)
        _ip("link", "add", outside, "type", "veth", "peer", "name", inside)
        _ip("link", "set", inside, "netns", tag)
        _ip("addr", "add", f"{gateway}/{subnet.prefixlen}", "dev", outside)
        _ip("link", "set", outside, "up")
        _ip("-n", tag, "addr", "add", f"{address}/{subnet.prefixlen}", "dev", inside)
        _ip("-n", tag, "link", "set", inside, "up")
        _ip("-n", tag, "link", "set", "lo", "up")
        yield host
    finally:
        host._stop_forwarders()
        host._kill_inside()
        _ip("link", "del", outside, check=False)  # takes its peer with it
        _ip("netns", "del", tag, check=False)
