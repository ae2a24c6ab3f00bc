"""/metrics over TLS with basic auth, configured by an exporter-toolkit
web config: a real server with a self-signed certificate made here, and the
web config's mistakes reported with their positions."""

from __future__ import annotations

import base64
import datetime
import ipaddress
import ssl
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import bcrypt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from serve_support import config_text, exporter, new_marker, sample_value

from exporter.config.errors import ConfigInvalid
from exporter.contract import CONFIG_VALID
from exporter.metrics import ExporterMetrics
from exporter.server import MetricsServer
from exporter.webconfig import load_web_config

PASSWORD = "s3cret-scrape"


def write_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "server.crt", directory / "server.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@pytest.fixture
def web_config(tmp_path: Path) -> Path:
    write_certificate(tmp_path)
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    path = tmp_path / "web.yml"
    path.write_text(
        "tls_server_config:\n"
        "  cert_file: server.crt\n"
        "  key_file: server.key\n"
        "  min_version: TLS12\n"
        "basic_auth_users:\n"
        f"  prometheus: {hashed}\n"
    )
    return path


def client_context(tmp_path: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(tmp_path / "server.crt"))


def get(url: str, context: ssl.SSLContext, user: str | None, password: str) -> int:
    request = urllib.request.Request(url)
    if user is not None:
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, context=context, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        assert error.headers["WWW-Authenticate"] == 'Basic realm="runner-watchdog"'
        return error.code


@pytest.fixture
def server(web_config: Path) -> Iterator[MetricsServer]:
    metrics = ExporterMetrics("test")
    served = MetricsServer(
        "127.0.0.1", 0, "/metrics", metrics, load_web_config(web_config)
    )
    served.start()
    try:
        yield served
    finally:
        served.close()


@pytest.mark.parametrize(
    ("user", "password", "status"),
    [
        pytest.param("prometheus", PASSWORD, 200, id="valid"),
        pytest.param(None, "", 401, id="no-credentials"),
        pytest.param("prometheus", "guess", 401, id="wrong-password"),
        pytest.param("mallory", PASSWORD, 401, id="unknown-user"),
    ],
)
def test_basic_auth_over_tls(
    server: MetricsServer, tmp_path: Path, user: str | None, password: str, status: int
) -> None:
    assert server.url.startswith("https://127.0.0.1:")
    assert get(server.url, client_context(tmp_path), user, password) == status


def test_plain_http_gets_no_metrics(server: MetricsServer) -> None:
    with pytest.raises((urllib.error.URLError, ConnectionError)):
        urllib.request.urlopen(server.url.replace("https", "http"), timeout=10)


def test_serve_with_a_web_config(tmp_path: Path, web_config: Path) -> None:
    config = tmp_path / "runner.yaml"
    config.write_text(config_text(tmp_path / "evidence", new_marker()))
    with exporter(
        config, "--listen", "127.0.0.1:0", "--web-config", str(web_config)
    ) as served:
        request = urllib.request.Request(served.url)
        token = base64.b64encode(f"prometheus:{PASSWORD}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
        context = client_context(tmp_path)
        with urllib.request.urlopen(request, context=context, timeout=10) as reply:
            text = reply.read().decode()

    assert served.url.startswith("https://127.0.0.1:")
    assert sample_value(text, CONFIG_VALID) == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "basic_auth_users:\n  alice: hunter2\n",
            "web.yml:2:10: basic_auth_users.alice: 'hunter2' is not a bcrypt hash",
            id="plain-password",
        ),
        pytest.param(
            "tls_server_config:\n  cert_file: missing.crt\n  key_file: server.key\n",
            "web.yml:2:14: tls_server_config.cert_file:",
            id="missing-certificate",
        ),
        pytest.param(
            "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
            "  cipher_suites: [TLS_AES_128_GCM_SHA256]\n",
            "web.yml:4:3: tls_server_config.cipher_suites: unknown or unsupported key",
            id="unsupported-key",
        ),
        pytest.param(
            "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
            "  client_auth_type: RequireAndVerifyClientCert\n",
            "client_auth_type: verifying client certificates needs client_ca_file",
            id="client-auth-without-ca",
        ),
        pytest.param(
            "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
            "  min_version: SSL3\n",
            "'SSL3' is not supported; expected one of TLS10, TLS11, TLS12, TLS13",
            id="old-protocol",
        ),
        pytest.param(
            "tls_server_config:\n  cert_file: server.key\n  key_file: server.crt\n",
            "certificate and key do not load",
            id="swapped-files",
        ),
    ],
)
def test_web_config_mistakes_are_reported_where_they_are(
    tmp_path: Path, text: str, expected: str
) -> None:
    write_certificate(tmp_path)
    path = tmp_path / "web.yml"
    path.write_text(text)

    with pytest.raises(ConfigInvalid) as raised:
        load_web_config(path)

    assert expected in str(raised.value).replace(str(tmp_path) + "/", "")
