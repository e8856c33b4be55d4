"""tests/netns.py, the other-host harness: a namespace reaches this machine's services only
through the forwarders on its veth, and leaves nothing behind."""

from __future__ import annotations

import socket
import threading

import pytest

from tests.netns import _ip, netns_host, netns_unavailable

pytestmark = [pytest.mark.multihost]

WHY = netns_unavailable()
needs_netns = pytest.mark.skipif(WHY is not None, reason=f"no network namespaces here: {WHY}")


@pytest.fixture
def loopback_server():
    """A TCP server on this machine's loopback only, as the shared PostgreSQL is."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    server.close()


@needs_netns
def test_a_namespace_reaches_a_loopback_service_only_through_its_forwarder(loopback_server):
    with netns_host() as host:
        assert not host.can_connect("127.0.0.1", loopback_server)  # its own loopback
        port = host.forward(loopback_server)
        assert host.can_connect(host.gateway, port)
        assert not host.can_connect(host.gateway, loopback_server)  # not bound on the veth


@needs_netns
def test_the_namespace_and_its_veth_are_removed_even_when_the_test_fails():
    with pytest.raises(RuntimeError), netns_host() as host:
        name = host.name
        assert name in _ip("netns", "list").stdout
        raise RuntimeError("the test failed")
    assert name not in _ip("netns", "list").stdout
    assert f"{name}h" not in _ip("-o", "link", "show").stdout
