"""Who is calling: ``Authorization: Bearer <token>`` checked against the hashed API keys.

Reads are open unless ``MEDGRADE_READ_REQUIRES_KEY`` is set; every write needs a steward or
admin key. The keys file is re-read when it changes, so ``medgrade apikey create`` takes effect
on a running server.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from fastapi import Request

from kg import apikeys
from kg.apikeys import ApiKey
from kg.errors import AuthenticationError, ForbiddenError

LOCAL_NAME = "medgrade-cli"  # the audit trail's actor for commands sent with the local token


@dataclass(frozen=True)
class Caller:
    """The caller of a request: a key, or anonymous (``key`` None); ``user``: who the command
    line on the server's machine runs as (the local token only, header ``X-Medgrade-User``)."""

    key: ApiKey | None
    user: str | None = None

    @property
    def name(self) -> str:
        if self.user:
            return f"{self.user} ({LOCAL_NAME})"
        return self.key.name if self.key else "anonymous"


class Keys:
    """The keys file, re-read when its modification time or size changes, and the server's
    local admin token (``local``: known only to the store's owner through the server's
    advertisement, :mod:`kg.advert`; valid while the server runs)."""

    def __init__(self, path: Path, local: str | None = None) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._keys: list[ApiKey] = []
        self._lock = threading.Lock()
        self._local = [ApiKey(LOCAL_NAME, "admin", apikeys.digest(local))] if local else []

    def current(self) -> list[ApiKey]:
        try:
            st = self.path.stat()
            stamp = (st.st_mtime_ns, st.st_size)
        except OSError:
            stamp = None
        with self._lock:
            if stamp != self._stamp:
                self._keys = apikeys.load(self.path) if stamp else []
                self._stamp = stamp
            return self._keys + self._local

    def is_local(self, key: ApiKey) -> bool:
        """Whether ``key`` is the server's local admin token (not a key of the keys file)."""
        return any(key is k for k in self._local)


def caller(request: Request, role: str) -> Caller:
    """The caller, if allowed ``role``; else 401 (no or unknown key) or 403 (role too low)."""
    settings = request.app.state.settings
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if not header:
        if role == "reader" and not settings.read_requires_key:
            return Caller(None)
        raise AuthenticationError(
            f"this needs an API key with the {role} role: send 'Authorization: Bearer <token>'",
            f"此操作需要具有 {role} 角色的 API 密钥：请发送 “Authorization: Bearer <令牌>”",
        )
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError(
            "the Authorization header must be 'Bearer <token>'", "Authorization 头须为 “Bearer <令牌>”"
        )
    key = apikeys.authenticate(request.app.state.keys.current(), token.strip())
    if key is None:
        raise AuthenticationError("unknown or revoked API key", "API 密钥无效或已吊销")
    if not key.allows(role):
        raise ForbiddenError(
            f"the key '{key.name}' has the {key.role} role; this needs {role}",
            f"密钥“{key.name}”的角色为 {key.role}，此操作需要 {role}",
        )
    local = request.app.state.keys.is_local(key)
    user = unquote(request.headers.get("x-medgrade-user") or "").strip()[:200] if local else ""
    return Caller(key, user or None)


def key_holder(request: Request) -> bool:
    """Whether the request carries a valid API key (any role); never raises (for /health)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return False
    return apikeys.authenticate(request.app.state.keys.current(), token.strip()) is not None


def require(role: str) -> Callable[[Request], Coroutine[Any, Any, Caller]]:
    """A FastAPI dependency: the caller, allowed ``role``."""

    async def dependency(request: Request) -> Caller:  # cheap: no thread hand-off
        return caller(request, role)

    return dependency
