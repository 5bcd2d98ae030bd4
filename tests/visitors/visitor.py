"""A visitor over real HTTP, from an address of its own on loopback (127.0.0.N), with its cookie."""

from __future__ import annotations

import contextlib
import http.client
import json
import secrets
import select
import socket
from dataclasses import dataclass, field
from typing import Any


def multipart(fields: dict[str, tuple[str | None, bytes]]) -> tuple[bytes, str]:
    """A multipart/form-data body of ``fields`` (name: (file name or None, data)), and its type."""
    boundary = secrets.token_hex(12)
    body = b""
    for name, (filename, data) in fields.items():
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        body += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + data + b"\r\n"
    return body + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


@dataclass
class Visitor:
    port: int
    address: str = "127.0.0.2"
    cookie: str | None = None
    said: list[str] = field(default_factory=list)

    def request(
        self, method: str, path: str, body: bytes | None = None, kind: str | None = None, **headers: str
    ) -> tuple[int, Any]:
        """Status and JSON (or raw bytes) of one request from this visitor's address."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60, source_address=(self.address, 0))
        if self.cookie:
            headers["Cookie"] = f"metamorph-visitor={self.cookie}"
        if kind:
            headers["Content-Type"] = kind
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
            for name, value in response.getheaders():
                if name.lower() == "set-cookie" and value.startswith("metamorph-visitor="):
                    self.cookie = value.split("=", 1)[1].split(";", 1)[0]
        finally:
            connection.close()
        try:
            return response.status, json.loads(data)
        except ValueError:
            return response.status, data

    def open_page(self) -> bytes:
        status, page = self.request("GET", "/visit")
        assert status == 200 and self.cookie
        return page

    def wish(self, prompt: str | bytes, photo: bytes | None = None, filename: str = "photo.jpg") -> tuple[int, Any]:
        fields: dict[str, tuple[str | None, bytes]] = {
            "prompt": (None, prompt if isinstance(prompt, bytes) else prompt.encode())
        }
        if photo is not None:
            fields["photo"] = (filename, photo)
        status, told = self.request("POST", "/visit/wish", *multipart(fields))
        if status != 200:
            self.said.append(told["error"])
        return status, told


def raw_request(port: int, head: bytes, body: bytes = b"", address: str = "127.0.0.2", pause: float = 0.0) -> bytes:
    """Send ``head`` at once and ``body`` a byte each ``pause`` seconds (a slow phone, or a
    slowloris), stopping when the server answers; the answer, read until the server closes (ask
    it to: ``Connection: close``)."""
    with socket.create_connection(("127.0.0.1", port), timeout=120, source_address=(address, 0)) as connection:
        connection.sendall(head)
        for byte in body if pause else [body]:
            if select.select([connection], [], [], pause)[0]:
                break  # the server has answered (or closed): stop sending
            with contextlib.suppress(OSError):
                connection.sendall(bytes([byte]) if pause else byte)
        answer = b""
        with contextlib.suppress(OSError):
            while chunk := connection.recv(65536):
                answer += chunk
        return answer
