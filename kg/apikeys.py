"""API keys: bearer tokens with a role, kept hashed in a small TOML file.

::

    # medgrade API keys — tokens are stored as SHA-256 hashes only
    [[key]]
    name = "ward-steward"
    role = "steward"
    sha256 = "9f86d0…"
    created = "2026-11-27T10:00:00Z"

A token is 256 random bits (``mgk_`` + 43 URL-safe characters), shown once when created. Such a
token cannot be guessed, so a fast hash is the right one (as for GitHub or PyPI tokens; a slow
password hash would only slow every request). A presented token is hashed and compared with
every stored hash in constant time.

Roles, each including the ones before it: ``reader`` (queries and lookups), ``steward``
(assessments, derivations, imports, SPARQL Update), ``admin`` (reload the ontology and shapes).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import tempfile
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

from kg.errors import ConflictError, InputError, NotFoundError

ROLES = ("reader", "steward", "admin")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")


@dataclass(frozen=True)
class ApiKey:
    name: str
    role: str
    sha256: str
    created: str = ""

    def allows(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def load(path: Path | None) -> list[ApiKey]:
    """The keys in ``path`` (none when there is no file); a broken file is an error that says where."""
    if path is None or not path.exists():
        return []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"{path}: cannot read the API keys: {exc}", f"{path}：无法读取 API 密钥：{exc}") from exc
    keys = []
    for n, entry in enumerate(data.get("key", []), start=1):
        name, role, sha = entry.get("name"), entry.get("role"), entry.get("sha256")
        if (
            not isinstance(name, str)
            or role not in ROLES
            or not isinstance(sha, str)
            or not re.fullmatch(r"[0-9a-f]{64}", sha)
        ):
            raise InputError(
                f"{path}: key #{n} needs a name, a role ({', '.join(ROLES)}) and a 64-hex-digit sha256",
                f"{path}：第 {n} 个密钥须有 name、role（{'、'.join(ROLES)}）和 64 位十六进制 sha256",
            )
        keys.append(ApiKey(name, role, sha, str(entry.get("created", ""))))
    return keys


def authenticate(keys: list[ApiKey], token: str) -> ApiKey | None:
    """The key whose hash matches ``token``; every stored hash is compared, in constant time."""
    presented = digest(token)
    found = None
    for key in keys:
        if hmac.compare_digest(presented, key.sha256):
            found = key
    return found


def _write(path: Path, keys: list[ApiKey]) -> None:
    lines = ["# medgrade API keys — tokens are stored as SHA-256 hashes only / 仅保存令牌的 SHA-256 摘要", ""]
    for k in keys:
        lines += ["[[key]]", f'name = "{k.name}"', f'role = "{k.role}"', f'sha256 = "{k.sha256}"']
        lines += [f'created = "{k.created}"', ""]
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".apikeys-")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)  # atomic: the file is the old one or the new one


def create(path: Path, name: str, role: str) -> str:
    """Add a key named ``name`` with ``role``; returns the token (shown once, never stored)."""
    if not _NAME.match(name):
        raise InputError(
            f"key name '{name}': letters, digits and _ . @ - only (at most 64)",
            f"密钥名“{name}”只能含字母、数字及 _ . @ -（最多 64 个字符）",
        )
    if role not in ROLES:
        raise InputError(f"role '{role}': one of {', '.join(ROLES)}", f"角色“{role}”须为 {'、'.join(ROLES)} 之一")
    keys = load(path)
    if any(k.name == name for k in keys):
        raise ConflictError(f"a key named '{name}' exists; revoke it first", f"已有名为“{name}”的密钥，请先吊销")
    token = "mgk_" + secrets.token_urlsafe(32)
    created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    _write(path, [*keys, ApiKey(name, role, digest(token), created)])
    return token


def revoke(path: Path, name: str) -> None:
    keys = load(path)
    if not any(k.name == name for k in keys):
        raise NotFoundError(f"no key named '{name}' in {path}", f"{path} 中没有名为“{name}”的密钥")
    _write(path, [k for k in keys if k.name != name])
