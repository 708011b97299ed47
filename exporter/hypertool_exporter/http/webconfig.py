"""TLS and basic auth for the HTTP endpoints, from a web config file in the
format of Prometheus' exporter-toolkit (``--web.config.file``), so platform
teams reuse the file they already give node_exporter and friends:

    tls_server_config:
      cert_file: server.crt
      key_file: server.key
      client_auth_type: RequireAndVerifyClientCert   # optional mutual TLS
      client_ca_file: ca.crt
      min_version: TLS12
    http_server_config:
      headers: {Strict-Transport-Security: max-age=31536000}
    basic_auth_users:
      prometheus: $2y$10$...        # bcrypt hash, as htpasswd -nBC 10 makes

Relative file names are resolved against the web config file's directory.
Basic auth protects every path except ``/healthz`` (a liveness probe that
tells nothing) and ``POST /v1/events``, which has its own bearer token.
"""

from __future__ import annotations

import base64
import hashlib
import ssl
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..model.config import ConfigError

_TLS_VERSIONS = {
    "TLS10": ssl.TLSVersion.TLSv1,
    "TLS11": ssl.TLSVersion.TLSv1_1,
    "TLS12": ssl.TLSVersion.TLSv1_2,
    "TLS13": ssl.TLSVersion.TLSv1_3,
}
_CLIENT_AUTH = {
    "NoClientCert": ssl.CERT_NONE,
    "RequestClientCert": ssl.CERT_OPTIONAL,
    "VerifyClientCertIfGiven": ssl.CERT_OPTIONAL,
    "RequireAnyClientCert": ssl.CERT_REQUIRED,
    "RequireAndVerifyClientCert": ssl.CERT_REQUIRED,
}
#: Longest Authorization header considered: longer ones are refused unread.
MAX_AUTH_HEADER = 4096
#: bcrypt hash of a random string, cost 10, for unknown users.
_DUMMY_HASH = b"$2b$10$FD5zErW.1HVOg2.fcHatLuyUoQCt9aEDL.lLlZjvvtFqFKaOthtAO"
_TLS_KEYS = {
    "cert_file",
    "key_file",
    "client_auth_type",
    "client_ca_file",
    "min_version",
    "max_version",
}


@dataclass
class WebConfig:
    ssl_context: ssl.SSLContext | None = None
    users: dict[str, bytes] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    _verified: dict[bytes, bool] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def check_basic_auth(self, header: str | None) -> bool:
        """True when basic auth is off, or the header names a user with the right
        password. bcrypt is slow on purpose, so a verified (user, password) pair
        is remembered by its SHA-256, never in clear."""
        if not self.users:
            return True
        if not header or not header.startswith("Basic ") or len(header) > MAX_AUTH_HEADER:
            return False
        try:
            user, _, password = base64.b64decode(header[6:], validate=True).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        if len(password.encode()) > 72:  # bcrypt refuses longer passwords: none can match
            return False
        # An unknown user is checked against a fixed hash all the same, so the
        # answer takes as long and does not reveal which users exist.
        hashed = self.users.get(user, _DUMMY_HASH)
        digest = hashlib.sha256(f"{user}\0{password}".encode()).digest()
        with self._lock:
            known = self._verified.get(digest)
        if known is None:
            import bcrypt

            try:
                known = bcrypt.checkpw(password.encode(), hashed) and user in self.users
            except ValueError:  # a malformed hash: load_web_config refuses those
                known = False
            with self._lock:
                if len(self._verified) < 1000:
                    self._verified[digest] = known
        return known


class _DuplicateKey(Exception):
    def __init__(self, key: str, line: int):
        super().__init__(key)
        self.key, self.line = key, line


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing a key given twice in one mapping (the
    plain loader keeps the last one silently)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise _DuplicateKey(str(key), key_node.start_mark.line + 1)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _fail(source: str, path: str, value: Any, reason: str) -> ConfigError:
    return ConfigError(source, None, path, value, reason)


def load_web_config(path: str | Path | None) -> WebConfig:
    """Read and validate a web config file; None means plain HTTP without auth."""
    if path is None:
        return WebConfig()
    source = str(path)
    base = Path(path).resolve().parent
    try:
        data = yaml.load(Path(path).read_text(encoding="utf-8"), _UniqueKeyLoader) or {}
    except _DuplicateKey as exc:
        raise ConfigError(source, exc.line, exc.key, exc.key, "is given twice") from None
    except OSError as exc:
        raise _fail(source, "<file>", source, f"cannot be read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise _fail(source, "<yaml>", None, f"not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise _fail(source, "<top>", data, "must be a mapping")
    config = WebConfig()
    for key, value in data.items():
        if key == "tls_server_config":
            config.ssl_context = _tls(source, base, value)
        elif key == "basic_auth_users":
            config.users = _users(source, value)
        elif key == "http_server_config":
            config.headers = _http(source, value)
        else:
            raise _fail(
                source,
                key,
                key,
                "unknown section; expected tls_server_config, http_server_config, basic_auth_users",
            )
    return config


def _file(source: str, base: Path, field_name: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise _fail(source, field_name, value, "must be a file name")
    resolved = (base / value) if not Path(value).is_absolute() else Path(value)
    if not resolved.is_file():
        raise _fail(source, field_name, value, "file does not exist")
    return str(resolved)


def _tls(source: str, base: Path, value: Any) -> ssl.SSLContext:
    if not isinstance(value, dict):
        raise _fail(source, "tls_server_config", value, "must be a mapping")
    unknown = set(value) - _TLS_KEYS
    if unknown:
        name = sorted(unknown)[0]
        raise _fail(source, f"tls_server_config.{name}", name, "unknown field")
    cert = _file(source, base, "tls_server_config.cert_file", value.get("cert_file"))
    key = _file(source, base, "tls_server_config.key_file", value.get("key_file"))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(cert, key)
    except (ssl.SSLError, OSError) as exc:
        raise _fail(
            source,
            "tls_server_config.cert_file",
            value.get("cert_file"),
            f"certificate and key do not load: {exc}",
        ) from None
    for field_name, attr, default in (
        ("min_version", "minimum_version", "TLS12"),
        ("max_version", "maximum_version", None),
    ):
        version = value.get(field_name, default)
        if version is None:
            continue
        if version not in _TLS_VERSIONS:
            raise _fail(
                source,
                f"tls_server_config.{field_name}",
                version,
                f"must be one of {', '.join(_TLS_VERSIONS)}",
            )
        setattr(context, attr, _TLS_VERSIONS[version])
    auth = value.get("client_auth_type", "NoClientCert")
    if auth not in _CLIENT_AUTH:
        raise _fail(
            source,
            "tls_server_config.client_auth_type",
            auth,
            f"must be one of {', '.join(_CLIENT_AUTH)}",
        )
    context.verify_mode = _CLIENT_AUTH[auth]
    if auth in ("RequireAndVerifyClientCert", "VerifyClientCertIfGiven"):
        ca = _file(source, base, "tls_server_config.client_ca_file", value.get("client_ca_file"))
        context.load_verify_locations(ca)
    return context


def _users(source: str, value: Any) -> dict[str, bytes]:
    if not isinstance(value, dict):
        raise _fail(source, "basic_auth_users", value, "must be a mapping of user: bcrypt hash")
    import bcrypt

    users = {}
    for user, hashed in value.items():
        usable = isinstance(hashed, str) and hashed.startswith(("$2a$", "$2b$", "$2y$"))
        if usable:
            try:  # a hash bcrypt cannot read would refuse every password at run time
                bcrypt.checkpw(b"probe", hashed.encode())
            except ValueError:
                usable = False
        if not usable:
            raise _fail(
                source,
                f"basic_auth_users.{user}",
                "<hidden>",
                "must be a bcrypt hash bcrypt can check (htpasswd -nBC 10 USER)",
            )
        users[str(user)] = hashed.encode()
    return users


def _http(source: str, value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise _fail(source, "http_server_config", value, "must be a mapping")
    headers = value.get("headers") or {}
    unknown = set(value) - {"headers", "http2"}
    if unknown:
        name = sorted(unknown)[0]
        raise _fail(source, f"http_server_config.{name}", name, "unknown field")
    if not isinstance(headers, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
    ):
        raise _fail(source, "http_server_config.headers", headers, "must map names to strings")
    return dict(headers)


__all__ = ["WebConfig", "load_web_config"]
