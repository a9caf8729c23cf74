"""`icp serve` at the edges of HTTP: clients that leave halfway through a request body get one
log line each, not a traceback; a connection trickling its headers is closed after
HEADER_SECONDS instead of held open. Against a real uvicorn server on a loopback socket."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator

import pytest

import agent.frontends.web.serve as serve
from agent.frontends.web.app import create_app

pytestmark = pytest.mark.slow
TOKEN = "t" * 32


@pytest.fixture
def server(icp_home, monkeypatch) -> Iterator[int]:
    """A running `icp serve` app; yields its port."""
    monkeypatch.setattr(serve, "HEADER_SECONDS", 1.0, raising=False)
    sock = serve.bind("127.0.0.1", 0)
    running = serve.server(create_app(TOKEN))
    thread = threading.Thread(target=running.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    for _ in range(100):
        if running.started:
            break
        time.sleep(0.05)
    yield sock.getsockname()[1]
    running.should_exit = True
    thread.join(10)
    sock.close()


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if not any(r is record for r in self.records):  # seen again as it propagates
            self.records.append(record)


@pytest.fixture
def log_lines() -> Iterator[_Lines]:
    """Everything the server logs (uvicorn's and icp's loggers)."""
    handler = _Lines()
    loggers = [logging.getLogger(n) for n in ("", "uvicorn", "uvicorn.error", "icp.web")]
    for logger in loggers:
        logger.addHandler(handler)
    yield handler
    for logger in loggers:
        logger.removeHandler(handler)


def test_clients_leaving_mid_body_log_one_line_each(server, log_lines, figures):
    head = (
        b"POST /api/s/0123abcd/answer HTTP/1.1\r\nHost: x\r\nX-ICP-Token: "
        + TOKEN.encode()
        + b'\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"answer": '
    )
    for _ in range(100):
        client = socket.create_connection(("127.0.0.1", server))
        client.sendall(head)
        time.sleep(0.01)
        client.close()
    time.sleep(1.0)
    ours = [r for r in log_lines.records if "left before sending" in r.getMessage()]
    tracebacks = [r for r in log_lines.records if r.exc_info or "Exception" in r.getMessage()]
    figures["tracebacks logged for 100 clients leaving mid-body"] += len(tracebacks)
    assert tracebacks == []
    assert 1 <= len(ours) <= 100 and all(r.levelno == logging.WARNING for r in ours)
    assert all("\n" not in r.getMessage() for r in ours)


def test_a_connection_trickling_its_headers_is_closed(server):
    client = socket.create_connection(("127.0.0.1", server))
    client.settimeout(10)
    client.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # and never the blank line
    started = time.perf_counter()
    assert client.recv(100) == b""  # closed by the server
    assert time.perf_counter() - started < 5
    client.close()
    # A request that does arrive whole is served as before, on a kept-alive connection too.
    client = socket.create_connection(("127.0.0.1", server))
    client.settimeout(10)
    for _ in range(2):
        client.sendall(
            b"GET /static/app.css HTTP/1.1\r\nHost: x\r\nX-ICP-Token: "
            + TOKEN.encode()
            + b"\r\n\r\n"
        )
        reply = b""
        while b"\r\n\r\n" not in reply:
            reply += client.recv(65536)
        assert reply.startswith(b"HTTP/1.1 200"), reply[:100]
        length = int(reply.split(b"content-length: ")[1].split(b"\r\n")[0])
        body = reply.split(b"\r\n\r\n", 1)[1]
        while len(body) < length:
            body += client.recv(65536)
    client.sendall(b"GET / HTTP/1.1\r\n")  # the next request on it stalls: closed too
    assert client.recv(100) == b""
    client.close()
