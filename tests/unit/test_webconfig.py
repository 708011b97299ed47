"""TLS, mutual TLS and basic auth from an exporter-toolkit web config file."""

import base64
import http.client
import re
import ssl
import threading
import time

import bcrypt
import pytest
import trustme

from hypertool_exporter.app import Ready, run_server
from hypertool_exporter.http.webconfig import REMEMBERED, Auth, WebConfig, load_web_config
from hypertool_exporter.model.config import ConfigError, load_config, parse_config

PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def ca():
    return trustme.CA()


@pytest.fixture
def certs(ca, tmp_path):
    cert = ca.issue_cert("127.0.0.1", "localhost")
    cert.private_key_pem.write_to_path(str(tmp_path / "server.key"))
    cert.cert_chain_pems[0].write_to_path(str(tmp_path / "server.crt"))
    ca.cert_pem.write_to_path(str(tmp_path / "ca.crt"))
    return tmp_path


def write(tmp_path, text: str):
    path = tmp_path / "web.yml"
    path.write_text(text)
    return path


def serve(tmp_path, web, token=None):
    stop, ready = threading.Event(), Ready()
    config = parse_config("" if token is None else f"ingest: {{token: {token}}}\n")
    thread = threading.Thread(
        target=run_server,
        daemon=True,
        args=(config, "127.0.0.1", 0, str(tmp_path / "journal.sqlite")),
        kwargs={"ready": ready, "stop": stop, "web": web},
    )
    thread.start()
    assert ready.wait(15)
    return ready.port, stop, thread


def request(port, path="/metrics", *, context=None, headers=None, method="GET", body=None):
    if context is None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    else:
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=5, context=context)
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    return response.status, response.read(), dict(response.getheaders())


def basic(user, password):
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_tls_and_basic_auth(certs, ca, caplog):
    caplog.set_level("DEBUG")
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode()
    web = load_web_config(
        write(
            certs,
            f"""
tls_server_config:
  cert_file: server.crt
  key_file: server.key
http_server_config:
  headers:
    Strict-Transport-Security: max-age=31536000
basic_auth_users:
  prometheus: {hashed}
""",
        )
    )
    port, stop, thread = serve(certs, web, token="ingest-token-0123456789")
    client = ssl.create_default_context(cafile=str(certs / "ca.crt"))
    try:
        status, body, headers = request(port, context=client, headers=basic("prometheus", PASSWORD))
        assert status == 200 and b"hypertool_exporter_build_info" in body
        assert headers["Strict-Transport-Security"] == "max-age=31536000"
        assert request(port, context=client, headers=basic("prometheus", "wrong"))[0] == 401
        assert request(port, context=client, headers=basic("nobody", PASSWORD))[0] == 401
        status, _, headers = request(port, context=client)
        assert status == 401 and headers["WWW-Authenticate"].startswith("Basic")
        assert request(port, "/healthz", context=client)[0] == 200  # probes need no password
        # Ingest keeps its own bearer token.
        status, _, _ = request(
            port,
            "/v1/events",
            context=client,
            method="POST",
            headers={"Authorization": "Bearer ingest-token-0123456789"},
            body=b'{"type": "persona_switched", "to_persona": "qa"}',
        )
        assert status == 202
        with pytest.raises((ConnectionError, http.client.HTTPException, OSError)):
            request(port)  # plain HTTP to a TLS port gets nothing
    finally:
        stop.set()
        thread.join(15)
    # No secret reaches the log, whatever the level.
    assert "ingest-token-0123456789" not in caplog.text
    assert PASSWORD not in caplog.text and hashed not in caplog.text


def test_mutual_tls(certs, ca):
    web = load_web_config(
        write(
            certs,
            """
tls_server_config:
  cert_file: server.crt
  key_file: server.key
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: ca.crt
  min_version: TLS13
""",
        )
    )
    port, stop, thread = serve(certs, web)
    try:
        without = ssl.create_default_context(cafile=str(certs / "ca.crt"))
        with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
            request(port, context=without)
        with_cert = ssl.create_default_context(cafile=str(certs / "ca.crt"))
        ca.issue_cert("prometheus@example").configure_cert(with_cert)
        assert request(port, context=with_cert)[0] == 200
    finally:
        stop.set()
        thread.join(15)


@pytest.mark.parametrize(
    ("text", "field", "words"),
    [
        (
            "tls_server_config: {cert_file: nope.crt, key_file: nope.key}\n",
            "tls_server_config.cert_file",
            "file does not exist",
        ),
        (
            "tls_server_config: {cert_file: server.crt, key_file: server.key, ciphers: x}\n",
            "tls_server_config.ciphers",
            "unknown field",
        ),
        (
            "tls_server_config: {cert_file: server.crt, key_file: server.key, min_version: SSL3}\n",
            "tls_server_config.min_version",
            "must be one of",
        ),
        ("basic_auth_users: {alice: plaintext}\n", "basic_auth_users.alice", "bcrypt hash"),
        ("web_server: {}\n", "web_server", "unknown section"),
    ],
)
def test_bad_web_config_names_the_field(certs, text, field, words):
    with pytest.raises(ConfigError) as info:
        load_web_config(write(certs, text))
    assert info.value.field == field and words in str(info.value)
    assert "plaintext" not in str(info.value)  # a would-be password is never echoed


def test_cli_rejects_a_bad_web_config(tmp_path):
    from harness.support import run_cli

    bad = write(tmp_path, "basic_auth_users: {alice: plaintext}\n")
    result = run_cli(
        "serve", "--web.config.file", str(bad), "--journal", str(tmp_path / "j.sqlite"), check=False
    )
    assert result.returncode == 2
    assert "basic_auth_users.alice: must be a bcrypt hash" in result.stderr


# -- the same bounds as the main config -------------------------------------------

HOSTILE = {
    "nested 5,000 deep": "budgets: " + "[" * 5000 + "]" * 5000 + "\n",
    "an alias bomb": "a: &a [x, x]\n"
    + "".join(
        f"b{n}: &b{n} [*{'a' if n == 0 else f'b{n - 1}'}, *{'a' if n == 0 else f'b{n - 1}'}]\n"
        for n in range(60)
    ),
    "a 6,000-digit number": "limits: " + "9" * 6000 + "\n",
    "2 MiB of text": "# " + "x" * (2 << 20) + "\n",
}


@pytest.mark.parametrize("text", list(HOSTILE.values()), ids=list(HOSTILE))
@pytest.mark.parametrize("reader", ["config", "web config"])
def test_both_config_files_refuse_hostile_yaml_by_name(tmp_path, text, reader):
    path = write(tmp_path, text)
    load = load_web_config if reader == "web config" else load_config
    with pytest.raises(ConfigError) as refused:
        load(path)
    assert str(path) in str(refused.value) and len(str(refused.value)) < 400


@pytest.mark.parametrize(
    ("text", "field"),
    [
        # A cost of 31 would take days to check, once per request.
        ("basic_auth_users:\n  p: $2b$31$" + "a" * 53 + "\n", "basic_auth_users.p"),
        ("basic_auth_users:\n  p: $2b$10$short\n", "basic_auth_users.p"),
        ("basic_auth_users:\n  'a:b': $2b$10$" + "a" * 53 + "\n", "basic_auth_users.a:b"),
        (
            'http_server_config:\n  headers: {X-Frame-Options: "deny\\r\\nSet-Cookie: x=1"}\n',
            "http_server_config.headers.X-Frame-Options",
        ),
        (
            'http_server_config:\n  headers: {Strict-Transport-Security: "a\\nb"}\n',
            "http_server_config.headers.Strict-Transport-Security",
        ),
        ("http_server_config:\n  headers: {Set-Cookie: x=1}\n", "http_server_config.headers"),
        ("http_server_config:\n  headers: {X-Frame-Options: allow}\n", "X-Frame-Options"),
        ("http_server_config:\n  headers: {X-Frame-Options: " + "9" * 6000 + "}\n", "X-Frame"),
        ("tls_server_config:\n  cert_file: [a]\n", "tls_server_config.cert_file"),
    ],
)
def test_web_config_values_are_bounded_and_named(tmp_path, text, field):
    path = write(tmp_path, text)
    started = time.monotonic()
    with pytest.raises(ConfigError, match=re.escape(field)):
        load_web_config(path)
    assert time.monotonic() - started < 5  # refused on sight, never by running bcrypt


def test_security_headers_are_set_as_exporter_toolkit_allows(tmp_path):
    web = load_web_config(
        write(tmp_path, "http_server_config:\n  headers: {x-frame-options: DENY}\n  http2: true\n")
    )
    assert web.headers == {"X-Frame-Options": "DENY"}


# -- credentials: a flood cannot push out the scraper's -------------------------


def test_a_flood_of_wrong_passwords_neither_evicts_nor_delays_a_right_one():
    slow = bcrypt.hashpw(b"slow", bcrypt.gensalt(13)).decode()  # about half a second a check
    web = WebConfig(
        users={
            "prometheus": bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)),
            "x": slow.encode(),
        }
    )
    assert web.check_basic_auth(basic("prometheus", PASSWORD)["Authorization"]) is Auth.ALLOWED
    for n in range(REMEMBERED * 20):  # far more wrong pairs than are remembered
        wrong = basic("prometheus", f"guess-{n}")["Authorization"]
        assert web.check_basic_auth(wrong) is Auth.DENIED
    # A wrong check against the slow hash holds the one bcrypt slot; the right
    # pair is answered meanwhile, so it needed no bcrypt run.
    flood_done = threading.Event()
    flood = threading.Thread(
        target=lambda: (
            web.check_basic_auth(basic("x", "wrong")["Authorization"]),
            flood_done.set(),
        )
    )
    flood.start()
    try:
        assert web.check_basic_auth(basic("prometheus", PASSWORD)["Authorization"]) is Auth.ALLOWED
        assert not flood_done.is_set()
    finally:
        flood.join()


@pytest.mark.slow
def test_a_check_that_cannot_get_the_bcrypt_slot_in_time_is_busy_not_queued():
    # Cost 14: about a second a check, ten times the wait allowed here.
    web = WebConfig(users={"x": bcrypt.hashpw(b"slow", bcrypt.gensalt(14))}, check_wait=0.1)
    answers: list[Auth] = []
    checks = [
        threading.Thread(
            target=lambda n=n: answers.append(
                web.check_basic_auth(basic("x", f"{n}")["Authorization"])
            )
        )
        for n in range(3)
    ]
    for check in checks:
        check.start()
    for check in checks:
        check.join()
    # One ran bcrypt (and was refused); the others were told to come back.
    assert sorted(a.value for a in answers) == ["busy", "busy", "denied"]
