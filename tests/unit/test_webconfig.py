"""TLS, mutual TLS and basic auth from an exporter-toolkit web config file."""

import base64
import http.client
import ssl
import threading

import bcrypt
import pytest
import trustme
from harness.support import free_port

from hypertool_exporter.app import run_server
from hypertool_exporter.http.webconfig import load_web_config
from hypertool_exporter.model.config import ConfigError, parse_config

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
    port, stop, ready = free_port(), threading.Event(), threading.Event()
    config = parse_config("" if token is None else f"ingest: {{token: {token}}}\n")
    thread = threading.Thread(
        target=run_server,
        daemon=True,
        args=(config, "127.0.0.1", port, str(tmp_path / "journal.sqlite")),
        kwargs={"ready": ready, "stop": stop, "web": web},
    )
    thread.start()
    assert ready.wait(15)
    return port, stop, thread


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
