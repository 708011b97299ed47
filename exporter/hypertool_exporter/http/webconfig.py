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

The file is read with the main config's bounds (``model.yamlfile``), and
as exporter-toolkit reads it: only its security headers may be set, and a
bcrypt hash is checked for its form and cost without running it.

A password check costs a bcrypt run (tens of milliseconds, on purpose).
So a right password is remembered, by its SHA-256, and a wrong one never
is: a flood of wrong ones cannot push a scraper's out. And one bcrypt runs
at a time: a flood takes one core at most, and a check that cannot start
within ``CHECK_WAIT_SECONDS`` is answered "busy" (503) rather than queued.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import re
import ssl
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from ..model.yamlfile import Reader, compose, read_text

TYPE_CHECKING = False
if TYPE_CHECKING:  # PyYAML loads with a web config file
    import yaml

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
_TLS_KEYS = (
    "cert_file",
    "key_file",
    "client_auth_type",
    "client_ca_file",
    "min_version",
    "max_version",
)
#: The headers exporter-toolkit lets a web config set, and the values each
#: may take (``None``: any text).
HEADERS: dict[str, tuple[str, ...] | None] = {
    "Strict-Transport-Security": None,
    "X-Content-Type-Options": ("nosniff",),
    "X-Frame-Options": ("deny", "sameorigin"),
    "X-XSS-Protection": None,
    "Content-Security-Policy": None,
}
#: Those headers by their lower-case names (a header name is case-insensitive).
_HEADER_NAMES = {name.lower(): name for name in HEADERS}
#: Longest Authorization header considered: longer ones are refused unread.
MAX_AUTH_HEADER = 4096
#: Highest bcrypt cost accepted: each step doubles a check's time, and at 17
#: one check takes seconds of a core.
MAX_BCRYPT_COST = 16
#: Right (user, password) pairs remembered, the least recently used forgotten.
REMEMBERED = 64
#: Longest wait for the one bcrypt slot before a check is answered busy.
CHECK_WAIT_SECONDS = 2.0
#: A bcrypt hash as htpasswd and Go's bcrypt write it: version, cost, 53 characters.
_BCRYPT = re.compile(r"\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}")
#: bcrypt hash of a random string, cost 10, for unknown users.
_DUMMY_HASH = b"$2b$10$FD5zErW.1HVOg2.fcHatLuyUoQCt9aEDL.lLlZjvvtFqFKaOthtAO"


class Auth(enum.Enum):
    """The answer to a request's credentials."""

    ALLOWED = "allowed"
    DENIED = "denied"
    #: No bcrypt slot came free in time: try again (503, Retry-After).
    BUSY = "busy"


@dataclass
class WebConfig:
    ssl_context: ssl.SSLContext | None = None
    users: dict[str, bytes] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    #: Longest wait for the bcrypt slot before a check is answered busy.
    check_wait: float = CHECK_WAIT_SECONDS
    _remembered: OrderedDict[bytes, None] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _bcrypt_slot: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(1))

    def check_basic_auth(self, header: str | None) -> Auth:
        """``ALLOWED`` when basic auth is off, or the header names a user with
        the right password; a right pair is remembered by its SHA-256, never
        in clear, and a wrong one is not remembered at all."""
        if not self.users:
            return Auth.ALLOWED
        if not header or not header.startswith("Basic ") or len(header) > MAX_AUTH_HEADER:
            return Auth.DENIED
        try:
            user, _, password = base64.b64decode(header[6:], validate=True).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return Auth.DENIED
        if len(password.encode()) > 72:  # bcrypt refuses longer passwords: none can match
            return Auth.DENIED
        digest = hashlib.sha256(f"{user}\0{password}".encode()).digest()
        with self._lock:
            if digest in self._remembered:
                self._remembered.move_to_end(digest)
                return Auth.ALLOWED
        if not self._bcrypt_slot.acquire(timeout=self.check_wait):
            return Auth.BUSY
        try:
            # An unknown user is checked against a fixed hash all the same, so
            # the answer takes as long and does not reveal which users exist.
            right = _bcrypt_matches(password, self.users.get(user, _DUMMY_HASH))
        finally:
            self._bcrypt_slot.release()
        if not right or user not in self.users:
            return Auth.DENIED
        with self._lock:
            self._remembered[digest] = None
            if len(self._remembered) > REMEMBERED:
                self._remembered.popitem(last=False)
        return Auth.ALLOWED


def _bcrypt_matches(password: str, hashed: bytes) -> bool:
    import bcrypt

    try:
        return bcrypt.checkpw(password.encode(), hashed)
    except ValueError:  # a malformed hash: load_web_config refuses those
        return False


def load_web_config(path: str | Path | None) -> WebConfig:
    """Read and validate a web config file; None means plain HTTP without auth."""
    if path is None:
        return WebConfig()
    source = str(path)
    base = Path(path).resolve().parent
    root = compose(read_text(path), source)
    config = WebConfig()
    if root is None:
        return config
    reader = Reader(source)
    for key, key_node, node in reader.mapping(root, ""):
        if key == "tls_server_config":
            config.ssl_context = _tls(reader, base, node)
        elif key == "basic_auth_users":
            config.users = _users(reader, node)
        elif key == "http_server_config":
            config.headers = _http(reader, node)
        else:
            raise reader.fail(
                key_node,
                key,
                key,
                "unknown section; expected tls_server_config, http_server_config, basic_auth_users",
            )
    return config


def _file(reader: Reader, base: Path, path: str, node: yaml.Node) -> str:
    """The file a field names (``node``: its value, or its section when missing)."""
    import yaml

    if isinstance(node, yaml.MappingNode):
        raise reader.fail(node, path, None, "must be a file name")
    value = reader.text(node, path)
    resolved = (base / value) if not Path(value).is_absolute() else Path(value)
    if not resolved.is_file():
        raise reader.fail(node, path, value, "file does not exist")
    return str(resolved)


def _tls(reader: Reader, base: Path, node: yaml.Node) -> ssl.SSLContext:
    section = "tls_server_config"
    fields: dict[str, yaml.Node] = {}
    for name, key_node, value_node in reader.mapping(node, section):
        if name not in _TLS_KEYS:
            raise reader.fail(key_node, f"{section}.{name}", name, "unknown field")
        fields[name] = value_node
    cert, key = (
        _file(reader, base, f"{section}.{name}", fields.get(name) or node)
        for name in ("cert_file", "key_file")
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(cert, key)
    except (ssl.SSLError, OSError) as exc:
        raise reader.fail(
            fields["cert_file"],
            f"{section}.cert_file",
            cert,
            f"certificate and key do not load: {exc}",
        ) from None
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    for name, attr in (("min_version", "minimum_version"), ("max_version", "maximum_version")):
        if name in fields:
            version = reader.choice(fields[name], f"{section}.{name}", tuple(_TLS_VERSIONS))
            setattr(context, attr, _TLS_VERSIONS[version])
    auth = "NoClientCert"
    if "client_auth_type" in fields:
        path = f"{section}.client_auth_type"
        auth = reader.choice(fields["client_auth_type"], path, tuple(_CLIENT_AUTH))
    context.verify_mode = _CLIENT_AUTH[auth]
    if auth in ("RequireAndVerifyClientCert", "VerifyClientCertIfGiven"):
        path = f"{section}.client_ca_file"
        if "client_ca_file" not in fields:
            raise reader.fail(node, path, None, f"is needed with client_auth_type {auth}")
        context.load_verify_locations(_file(reader, base, path, fields["client_ca_file"]))
    return context


def _users(reader: Reader, node: yaml.Node) -> dict[str, bytes]:
    users = {}
    for user, key_node, value_node in reader.mapping(node, "basic_auth_users"):
        path = f"basic_auth_users.{user}"
        if ":" in user or not user.isprintable():
            raise reader.fail(
                key_node, path, user, "a user name holds no ':' and no control characters"
            )
        hashed = reader.scalar(value_node, path)
        form = _BCRYPT.fullmatch(hashed) if isinstance(hashed, str) else None
        if form is None:
            raise reader.fail(
                value_node,
                path,
                "<hidden>",
                "must be a bcrypt hash (htpasswd -nBC 10 USER)",
            )
        if not 4 <= int(form.group(1)) <= MAX_BCRYPT_COST:
            raise reader.fail(
                value_node,
                path,
                f"cost {form.group(1)}",
                f"bcrypt cost must be 4 to {MAX_BCRYPT_COST}: each step doubles every check",
            )
        users[user] = hashed.encode()
    return users


def _http(reader: Reader, node: yaml.Node) -> dict[str, str]:
    headers = {}
    for name, key_node, value_node in reader.mapping(node, "http_server_config"):
        if name == "http2":
            continue  # exporter-toolkit's switch; this server speaks HTTP/1.1
        if name != "headers":
            raise reader.fail(key_node, f"http_server_config.{name}", name, "unknown field")
        for header, header_node, text_node in reader.mapping(
            value_node, "http_server_config.headers"
        ):
            path = f"http_server_config.headers.{header}"
            known = _HEADER_NAMES.get(header.lower())
            if known is None:
                raise reader.fail(
                    header_node, path, header, f"cannot be set; one of {', '.join(HEADERS)} can"
                )
            value = reader.text(text_node, path)
            choices = HEADERS[known]
            if choices is not None and value.lower() not in choices:
                raise reader.fail(text_node, path, value, f"must be one of {', '.join(choices)}")
            headers[known] = value
    return headers


__all__ = [
    "CHECK_WAIT_SECONDS",
    "HEADERS",
    "MAX_BCRYPT_COST",
    "REMEMBERED",
    "Auth",
    "WebConfig",
    "load_web_config",
]
