"""The suite must fail if a test tries to reach the network."""

from __future__ import annotations

import socket

import pytest
from pytest_socket import SocketBlockedError

from backtest.data.loader import DataLoader, network_available

# pytest-socket warns as it raises; the raise is what these tests check.
pytestmark = pytest.mark.filterwarnings("ignore:A test tried to use socket")


def test_opening_a_socket_fails_the_test():
    with pytest.raises(SocketBlockedError):
        socket.create_connection(("fred.stlouisfed.org", 443), timeout=1)


def test_network_probe_does_not_swallow_the_block():
    # The loader's probe treats only OSError as "no network"; pytest-socket's block
    # is re-raised, so a test that would probe fails instead of going offline.
    with pytest.raises(SocketBlockedError):
        network_available("fred.stlouisfed.org")


def test_auto_offline_without_network(monkeypatch):
    calls = []

    def refuse(address, timeout=None):
        calls.append(address)
        raise OSError("Network is unreachable")

    monkeypatch.setattr(socket, "create_connection", refuse)
    loader = DataLoader(offline=None)
    assert loader.is_offline("fred") is True
    assert calls == [("fred.stlouisfed.org", 443)]


def test_env_forces_offline_without_probing(monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError("must not probe")

    monkeypatch.setattr(socket, "create_connection", boom)
    monkeypatch.setenv("BACKTEST_OFFLINE", "1")
    assert DataLoader(offline=None).is_offline("yahoo") is True
