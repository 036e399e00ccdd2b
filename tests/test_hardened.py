"""The hardened build: the whole session runs in an empty network namespace (conftest.pytest_configure),
so the labs, both builds and the browser prove they need nothing but this machine. Skipped, with the
reason, where the machine does not allow a new network namespace."""
from __future__ import annotations

import errno
import socket

import pytest

from conftest import NOT_ISOLATED

PUBLIC = [("1.1.1.1", 443), ("8.8.8.8", 53)]


@pytest.fixture(scope="session", autouse=True)  # session: skip before the labs and builds are set up
def isolated(pytestconfig):
    reason = pytestconfig.stash[NOT_ISOLATED]
    if reason:
        pytest.skip(f"network isolation not available: {reason}")


@pytest.mark.parametrize("address", PUBLIC, ids=[f"{h}:{p}" for h, p in PUBLIC])
def test_public_addresses_are_unreachable(address):
    with pytest.raises(OSError) as caught:
        socket.create_connection(address, timeout=3).close()
    assert caught.value.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH), f"not cut off, but: {caught.value!r}"


def test_only_loopback_exists_and_it_works():
    assert [name for _, name in socket.if_nameindex()] == ["lo"]
    with socket.create_server(("127.0.0.1", 0)) as server, \
            socket.create_connection(server.getsockname(), timeout=3) as client:
        conn, _ = server.accept()
        with conn:
            client.sendall(b"ping")
            assert conn.recv(4) == b"ping"


def test_labs_and_both_builds_ran_inside_the_cut_off_namespace(lab_results, site, offline_site):
    failed = {slug: r for slug, r in lab_results.items() if isinstance(r, Exception)}
    assert lab_results and not failed, failed
    assert (site / "index.html").is_file() and (offline_site / "en" / "index.html").is_file()
