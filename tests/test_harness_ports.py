"""The harness's ports: below the range the kernel gives outgoing connections, one slice per xdist
worker, and never handed out twice by one process (a daemon restarts on the port it was given)."""

import itertools
import socket

import pytest

from devtools import chain
from devtools.chain import free_port


def test_ports_are_free_distinct_and_below_the_ephemeral_range():
    ports = [free_port() for _ in range(50)]
    assert len(set(ports)) == 50
    assert all(1024 <= port < chain._ephemeral_floor() for port in ports)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", ports[-1]))  # nothing holds it


@pytest.mark.parametrize("count", [1, 2, 4])
def test_each_worker_and_the_processes_outside_xdist_have_slices_of_their_own(monkeypatch, count):
    slices = []
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", str(count))
    slices.append(chain._my_ports())
    for index in range(count):
        monkeypatch.setenv("PYTEST_XDIST_WORKER", f"gw{index}")
        slices.append(chain._my_ports())
    ordered = sorted(slices)
    assert all(low < high <= later for (low, high), (later, _) in itertools.pairwise(ordered))
    assert ordered[-1][1] <= chain._ephemeral_floor() and len(set(slices)) == count + 1
