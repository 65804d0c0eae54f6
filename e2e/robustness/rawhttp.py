"""Raw-socket HTTP/1.1 helpers for requests no HTTP client library will send: half-sent bodies,
oversized or malformed heads, byte-at-a-time (slowloris) clients."""

from __future__ import annotations

import json
import socket
import time
from typing import Dict, Optional, Tuple


def connect(port: int, timeout: float = 10.0) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def head(method: str, target: str, headers: Dict[str, str]) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def split_head(data: bytes) -> Tuple[int, Dict[str, str], bytes]:
    """The status and headers (names lower-cased) of the response head at the start of `data`,
    which holds a whole head, and the bytes after it."""
    raw_head, rest = data.split(b"\r\n\r\n", 1)
    lines = raw_head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers: Dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, rest


def read_response(sock: socket.socket, timeout: float = 10.0) -> Tuple[int, Dict[str, str], bytes]:
    """Reads one response (Content-Length or chunked). Raises ConnectionError if the server
    closes first."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"connection closed before a response head ({len(data)} bytes read)")
        data += chunk
    status, headers, rest = split_head(data)
    if "content-length" in headers:
        length = int(headers["content-length"])
        while len(rest) < length:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed inside a response body")
            rest += chunk
        return status, headers, rest[:length]
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            while b"\r\n" not in rest:
                chunk = sock.recv(65536)
                if not chunk:
                    raise ConnectionError("connection closed inside a chunked body")
                rest += chunk
            size_line, rest = rest.split(b"\r\n", 1)
            size = int(size_line.split(b";")[0], 16)
            while len(rest) < size + 2:
                chunk = sock.recv(65536)
                if not chunk:
                    raise ConnectionError("connection closed inside a chunk")
                rest += chunk
            if size == 0:
                return status, headers, body
            body += rest[:size]
            rest = rest[size + 2 :]
    return status, headers, rest


def request(
    port: int, method: str, target: str, headers: Optional[Dict[str, str]] = None, body: bytes = b""
) -> Tuple[int, Dict[str, str], bytes]:
    headers = dict(headers or {})
    if body or method in ("POST", "PUT", "PATCH"):
        headers.setdefault("Content-Length", str(len(body)))
    headers.setdefault("Connection", "close")
    with connect(port) as sock:
        sock.sendall(head(method, target, headers) + body)
        return read_response(sock)


def json_error(body: bytes) -> dict:
    """The `error` object of an error response."""
    return json.loads(body)["error"]


def closed_by_peer(sock: socket.socket, within: float) -> Optional[float]:
    """Seconds until the server closes `sock` (reads EOF or a reset), or None if it stays open."""
    start = time.monotonic()
    deadline = start + within
    while time.monotonic() < deadline:
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            return None
        except ConnectionResetError:
            return time.monotonic() - start
        if not chunk:
            return time.monotonic() - start
    return None


def read_until_closed(sock: socket.socket, within: float) -> Tuple[bytes, Optional[float]]:
    """Everything the server sends until it closes `sock` (EOF or a reset), and the seconds that
    took; None for the seconds if the connection was still open after `within`."""
    start = time.monotonic()
    deadline = start + within
    data = b""
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return data, None
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            return data, None
        except ConnectionResetError:
            return data, time.monotonic() - start
        if not chunk:
            return data, time.monotonic() - start
        data += chunk


def parse_response(data: bytes) -> Tuple[int, Dict[str, str], bytes, bytes]:
    """The first response in `data` (as read by `read_until_closed`) and the bytes after it, which
    are empty unless the server wrote more than one response. Raises ValueError when `data` holds
    no complete response."""
    if b"\r\n\r\n" not in data:
        raise ValueError(f"no complete response head in {len(data)} bytes")
    status, headers, rest = split_head(data)
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            if len(rest) < size + 2:
                raise ValueError("response ends inside a chunk")
            if size == 0:
                return status, headers, body, rest[2:]
            body += rest[:size]
            rest = rest[size + 2 :]
    length = int(headers.get("content-length", "0"))
    if len(rest) < length:
        raise ValueError(f"response body is {len(rest)} of {length} bytes")
    return status, headers, rest[:length], rest[length:]
