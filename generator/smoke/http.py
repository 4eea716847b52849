"""Tiny HTTP client for 127.0.0.1 only: no proxies (an http_proxy setting must not catch loopback)."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
import uuid
from typing import Any

__all__ = ["HttpError", "get_json", "get_text", "post_file", "request_json"]

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class HttpError(Exception):
    """No answer, or an error status; ``status`` is None when nothing answered."""

    def __init__(self, url: str, message: str, status: int | None = None, body: str = "") -> None:
        super().__init__(f"{url}: {message}")
        self.status = status
        self.body = body


def _check(url: str) -> None:
    host = urllib.parse.urlsplit(url).hostname
    if host != "127.0.0.1":
        raise ValueError(f"gen smoke only talks to 127.0.0.1, not {host}")


def _open(request: urllib.request.Request, timeout: float) -> bytes:
    _check(request.full_url)
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            data: bytes = response.read()
            return data
    except urllib.error.HTTPError as exc:
        body = exc.read().decode("utf-8", "replace")
        raise HttpError(request.full_url, f"HTTP {exc.code}", exc.code, body) from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise HttpError(request.full_url, str(reason)) from None


def get_text(url: str, timeout: float = 3.0) -> str:
    return _open(urllib.request.Request(url), timeout).decode("utf-8", "replace")


def get_json(url: str, timeout: float = 3.0) -> Any:
    return request_json("GET", url, timeout=timeout)


def request_json(method: str, url: str, payload: Any = None, timeout: float = 10.0) -> Any:
    data = None if payload is None else json.dumps(payload).encode()
    headers = {"Accept": "application/json"}
    if data is not None:
        headers["Content-Type"] = "application/json"
    raw = _open(urllib.request.Request(url, data=data, method=method, headers=headers), timeout)
    try:
        return json.loads(raw) if raw.strip() else None
    except ValueError:
        raise HttpError(url, "the answer is not JSON", body=raw[:500].decode("utf-8", "replace")) from None


def post_file(url: str, field: str, filename: str, content: bytes, content_type: str, timeout: float = 30.0) -> Any:
    """A multipart/form-data upload of one file; returns the JSON answer."""
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}", "Accept": "application/json"}
    raw = _open(urllib.request.Request(url, data=body, method="POST", headers=headers), timeout)
    return json.loads(raw)
