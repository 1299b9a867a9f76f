"""make setup's torch choice: the CPU build on Linux without a GPU when the CPU index answers, PyPI's otherwise,
and a probe that gives up in seconds instead of hanging on an index that never answers."""

from __future__ import annotations

import http.server
import socket
import threading
import time

import pytest

from course_tools import torch_wheel as tw


@pytest.fixture(autouse=True)
def _auto(monkeypatch):
    monkeypatch.delenv("COURSE_TORCH", raising=False)
    monkeypatch.setattr(tw, "installed_torch", lambda: None)  # as in a fresh venv


def test_linux_without_gpu_uses_the_cpu_index_when_it_answers():
    args, line = tw.choose(system="Linux", gpu=False, probe=lambda: True)
    assert args == ["--extra-index-url", tw.CPU_INDEX] and "CPU build" in line


def test_linux_without_gpu_falls_back_to_pypi_when_the_index_is_silent(monkeypatch):
    monkeypatch.setattr(tw, "local_cpu_wheel", lambda: None)
    args, line = tw.choose(system="Linux", gpu=False, probe=lambda: False)
    assert args == [] and "did not answer" in line and "CUDA" in line


def test_a_local_cpu_wheel_is_named(monkeypatch):
    monkeypatch.setattr(tw, "local_cpu_wheel", lambda: "/opt/wheels/torch-2.13.0+cpu-cp311-cp311-x.whl")
    args, line = tw.choose(system="Linux", gpu=False, probe=lambda: False)
    assert args == [] and "torch-2.13.0+cpu" in line


def test_gpu_or_other_systems_keep_pypi():
    def never():
        raise AssertionError("no probe needed")

    assert tw.choose(system="Linux", gpu=True, probe=never)[0] == []
    assert tw.choose(system="Darwin", probe=never)[0] == []
    assert tw.choose(system="Windows", probe=never)[0] == []


def test_installed_torch_needs_nothing(monkeypatch):
    monkeypatch.setattr(tw, "installed_torch", lambda: "2.13.0+cpu")
    assert tw.choose(system="Linux", gpu=False, probe=lambda: pytest.fail("probed"))[0] == []


def test_forced_choices(monkeypatch):
    monkeypatch.setenv("COURSE_TORCH", "cpu")
    assert tw.choose(system="Linux", gpu=True)[0] == ["--extra-index-url", tw.CPU_INDEX]
    monkeypatch.setenv("COURSE_TORCH", "pypi")
    assert tw.choose(system="Linux", gpu=False, probe=lambda: True)[0] == []


def test_probe_gives_up_on_a_server_that_never_answers():
    with socket.socket() as s:  # accepts connections (the kernel's backlog) and never says a word
        s.bind(("127.0.0.1", 0))
        s.listen()
        t0 = time.monotonic()
        assert tw.index_answers(f"http://127.0.0.1:{s.getsockname()[1]}/whl/cpu", timeout=0.5) is False
        assert time.monotonic() - t0 < 5


def test_probe_refused_or_unresolvable_is_false():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, not listening: connection refused
        assert tw.index_answers(f"http://127.0.0.1:{port}/whl/cpu", timeout=1) is False
    assert tw.index_answers("http://nonexistent.invalid/whl/cpu", timeout=1) is False


def test_probe_true_when_the_index_lists_torch():
    class Index(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = b'<a href="torch-2.13.0%2Bcpu-cp311-cp311-manylinux_2_28_x86_64.whl">torch-2.13.0+cpu</a>'
            self.send_response(200 if self.path == "/whl/cpu/torch/" else 404)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Index)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        assert tw.index_answers(f"http://127.0.0.1:{server.server_port}/whl/cpu", timeout=5) is True
    finally:
        server.shutdown()
