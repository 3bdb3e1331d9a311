"""Hostile answers from the summary endpoint (docs/SUMMARY.md), from a real socket server that
writes the bytes it is told to: a 100 MB stream, bytes trickling in, a redirect to a file, text
that is not UTF-8, an error page quoting the API key. Each ends in one clear SummaryError."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from app.outbound.llm import MAX_ANSWER_BYTES, SummaryError, chat_completion

KEY = "sk-test-never-echoed-91ab"
HUGE = 100 * 1024 * 1024
BINARY = b"\xff\xfe\x00{\x80}\xc3("
LATIN1 = '{"choices":[{"message":{"content":"café crème"}}]}'.encode("latin-1")


class RawServer:
    """One-request-at-a-time HTTP server on a port the OS picks: reads the request, then lets
    `answer(conn, request)` write whatever it likes; counts the bytes it managed to send."""

    def __init__(self, answer: Callable[[socket.socket, bytes], None]) -> None:
        self.answer, self.sent, self.requests = answer, 0, []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.base = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with conn:
                request = b""
                while b"\r\n\r\n" not in request:
                    request += conn.recv(65536)
                head, _, body = request.partition(b"\r\n\r\n")
                length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                while len(body) < length:
                    body += conn.recv(65536)
                self.requests.append(head + b"\r\n\r\n" + body)
                with contextlib.suppress(OSError):  # the client hung up, as a bounded reader does
                    self.answer(conn, head)

    def send(self, conn: socket.socket, data: bytes) -> None:
        conn.sendall(data)
        self.sent += len(data)

    def close(self) -> None:
        with contextlib.suppress(OSError):  # wakes the accept() the thread is blocked in
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        self.thread.join(10)


@pytest.fixture
def raw(app, monkeypatch) -> Iterator[Callable[..., RawServer]]:
    servers: list[RawServer] = []

    def start(answer: Callable[[socket.socket, bytes], None], timeout: float = 5) -> RawServer:
        server = RawServer(answer)
        servers.append(server)
        monkeypatch.setitem(app.config, "LLM_BASE_URL", server.base + "/v1")
        monkeypatch.setitem(app.config, "LLM_MODEL", "m")
        monkeypatch.setitem(app.config, "LLM_API_KEY", KEY)
        monkeypatch.setitem(app.config, "LLM_TIMEOUT_SECONDS", timeout)
        return server

    yield start
    for server in servers:
        server.close()


def head(status: str = "200 OK", length: int | None = None, extra: str = "") -> bytes:
    size = f"Content-Length: {length}\r\n" if length is not None else ""
    return f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n{size}{extra}\r\n".encode()


def test_a_100_mb_answer_is_given_up_while_it_streams(raw):
    opening = b'{"choices":[{"message":{"content":"'

    def answer(conn, _request):
        server.send(conn, head(length=HUGE) + opening)
        block = b"a" * 65536
        while server.sent < HUGE:
            server.send(conn, block)

    server = raw(answer)
    with pytest.raises(SummaryError, match=f"larger than {MAX_ANSWER_BYTES:,} bytes"):
        chat_completion("system", "user")
    server.close()
    assert server.sent < HUGE // 4  # the reader hung up: the stream was not read to its end


def test_bytes_trickling_in_use_up_one_timeout_for_the_whole_answer(raw):
    body = b'{"choices":[{"message":{"content":"a summary that arrives one byte at a time"}}]}'

    def answer(conn, _request):
        server.send(conn, head(length=len(body)))
        for byte in body:  # each read waits 0.05 s: well within a per-read timeout of 0.5 s
            time.sleep(0.05)
            server.send(conn, bytes([byte]))

    server = raw(answer, timeout=0.5)
    with pytest.raises(SummaryError, match=r"gave no answer within 0.5 s"):
        chat_completion("system", "user")


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (head("302 Found", 0, "Location: file:///etc/passwd\r\n"), "answered HTTP 302"),
        (head("307 Temporary Redirect", 0, "Location: http://169.254.169.254/\r\n"), "HTTP 307"),
        (head(length=len(BINARY)) + BINARY, "answer is not JSON"),
        (head(length=len(LATIN1)) + LATIN1, "answer is not JSON"),
    ],
    ids=["redirect-to-file", "redirect-to-metadata", "binary", "latin-1"],
)
def test_redirects_and_bytes_that_are_not_utf8_are_refused(raw, reply, message):
    server = raw(lambda conn, _request: server.send(conn, reply))
    with pytest.raises(SummaryError, match=message):
        chat_completion("system", "user")
    assert len(server.requests) == 1  # no redirect followed


def test_an_error_page_quoting_the_key_does_not_bring_it_into_the_message(raw, caplog):
    def answer(conn, request):
        said = b"invalid key: " + request.split(b"Bearer ")[1].split(b"\r\n")[0]
        server.send(conn, head("401 Unauthorized", len(said)) + said)

    server = raw(answer)
    with pytest.raises(SummaryError) as refused:
        chat_completion("system", "user")
    assert str(refused.value) == "the summary endpoint answered HTTP 401"
    assert KEY.encode() in server.requests[0]  # it was sent, as a bearer token
    assert KEY not in caplog.text
