"""The exporter-toolkit ``web.config`` file: TLS and basic auth for
``/metrics``, in the format Prometheus exporters share.

    tls_server_config:
      cert_file: server.crt        # relative paths start at this file's folder
      key_file: server.key
      client_auth_type: RequireAndVerifyClientCert   # optional
      client_ca_file: clients.crt                    # with client auth
      min_version: TLS12                             # optional, TLS10..TLS13
    basic_auth_users:
      prometheus: $2y$10$...       # a bcrypt hash, never the password

The toolkit's cipher, curve and header settings are refused by name: Python's
TLS server cannot honour them one for one. Every problem is reported at
once with file, line, column and key path.
"""

from __future__ import annotations

import re
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from exporter.config.errors import ConfigInvalid, ConfigUnreadable
from yamlsource import Document, KeyPath, Problem, UnreadableError, load_file

# exporter-toolkit's client_auth_type values Python's ssl can honour.
CLIENT_AUTH = {
    "NoClientCert": ssl.CERT_NONE,
    "VerifyClientCertIfGiven": ssl.CERT_OPTIONAL,
    "RequireAndVerifyClientCert": ssl.CERT_REQUIRED,
}
TLS_VERSIONS = {
    "TLS10": ssl.TLSVersion.TLSv1,
    "TLS11": ssl.TLSVersion.TLSv1_1,
    "TLS12": ssl.TLSVersion.TLSv1_2,
    "TLS13": ssl.TLSVersion.TLSv1_3,
}
_TLS_KEYS = {
    "cert_file",
    "key_file",
    "client_auth_type",
    "client_ca_file",
    "min_version",
    "max_version",
}
_TOP_KEYS = {"tls_server_config", "basic_auth_users", "http_server_config"}
_T = TypeVar("_T")
_BCRYPT = re.compile(r"^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$")


@dataclass(frozen=True)
class TlsSettings:
    cert_file: Path
    key_file: Path
    client_auth: ssl.VerifyMode = ssl.CERT_NONE
    client_ca_file: Path | None = None
    min_version: ssl.TLSVersion | None = None
    max_version: ssl.TLSVersion | None = None

    def context(self) -> ssl.SSLContext:
        """A server context; raises ssl.SSLError or OSError on bad files."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_file, self.key_file)
        context.verify_mode = self.client_auth
        if self.client_ca_file is not None:
            context.load_verify_locations(cafile=self.client_ca_file)
        if self.min_version is not None:
            context.minimum_version = self.min_version
        if self.max_version is not None:
            context.maximum_version = self.max_version
        return context


@dataclass(frozen=True)
class WebConfig:
    source: Path | None
    tls: TlsSettings | None = None
    users: dict[str, bytes] = field(default_factory=dict)  # name -> bcrypt hash


def load_web_config(path: Path) -> WebConfig:
    """Read and check ``path``; ConfigInvalid lists every problem, and
    ConfigUnreadable says why the file cannot be read."""
    try:
        doc = load_file(path)
    except UnreadableError as exc:
        raise ConfigUnreadable(str(path), exc.problems) from None
    problems = list(doc.problems)
    data = doc.data if doc.data is not None else {}
    if not isinstance(data, dict):
        problems.append(doc.problem((), "expected a mapping of web config keys"))
        raise ConfigInvalid(str(path), problems)

    problems.extend(_unknown(doc, data, (), _TOP_KEYS))
    users = _users(doc, data.get("basic_auth_users"), problems)
    tls = _tls(doc, data.get("tls_server_config"), path.parent, problems)
    problems.extend(_http_settings(doc, data.get("http_server_config")))
    if tls is not None and not problems:
        problems.extend(_loadable(doc, tls))
    if problems:
        raise ConfigInvalid(str(path), problems)
    return WebConfig(path, tls, users)


def _unknown(
    doc: Document, data: dict[str, Any], at: KeyPath, known: set[str]
) -> list[Problem]:
    accepted = ", ".join(sorted(known))
    return [
        doc.problem(
            (*at, key),
            f"unknown or unsupported key {key!r}; expected one of {accepted}",
            at_key=True,
        )
        for key in data
        if key not in known
    ]


def _users(doc: Document, value: Any, problems: list[Problem]) -> dict[str, bytes]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append(
            doc.problem(("basic_auth_users",), "expected a mapping of user: hash")
        )
        return {}
    users: dict[str, bytes] = {}
    for name, hashed in value.items():
        if not isinstance(hashed, str) or not _BCRYPT.match(hashed):
            problems.append(
                doc.problem(
                    ("basic_auth_users", name),
                    f"{hashed!r} is not a bcrypt hash; expected $2a$, $2b$ or "
                    "$2y$ followed by the cost and 53 characters "
                    "(htpasswd -nBC 10 USER prints one)",
                )
            )
            continue
        users[str(name)] = hashed.encode("ascii")
    return users


def _tls(
    doc: Document, value: Any, base: Path, problems: list[Problem]
) -> TlsSettings | None:
    at: KeyPath = ("tls_server_config",)
    if value is None:
        return None
    if not isinstance(value, dict):
        problems.append(doc.problem(at, "expected a mapping with cert_file, key_file"))
        return None
    problems.extend(_unknown(doc, value, at, _TLS_KEYS))
    found = len(problems)
    cert = _path(doc, value, "cert_file", base, problems, required=True)
    key = _path(doc, value, "key_file", base, problems, required=True)
    ca = _path(doc, value, "client_ca_file", base, problems, required=False)
    auth = _choice(doc, value, "client_auth_type", CLIENT_AUTH, problems)
    low = _choice(doc, value, "min_version", TLS_VERSIONS, problems)
    high = _choice(doc, value, "max_version", TLS_VERSIONS, problems)
    if auth not in (None, ssl.CERT_NONE) and ca is None:
        problems.append(
            doc.problem(
                (*at, "client_auth_type"),
                "verifying client certificates needs client_ca_file",
            )
        )
    if len(problems) > found or cert is None or key is None:
        return None
    return TlsSettings(cert, key, auth or ssl.CERT_NONE, ca, low, high)


def _path(
    doc: Document,
    data: dict[str, Any],
    key: str,
    base: Path,
    problems: list[Problem],
    *,
    required: bool,
) -> Path | None:
    at = ("tls_server_config", key)
    value = data.get(key)
    if value is None or value == "":
        if required:
            problems.append(doc.problem(at, f"{key} is required; expected a file path"))
        return None
    if not isinstance(value, str):
        problems.append(doc.problem(at, f"{value!r} is not a file path"))
        return None
    path = base / value
    if not path.is_file():
        problems.append(doc.problem(at, f"{str(path)!r} is not a readable file"))
        return None
    return path


def _choice(
    doc: Document,
    data: dict[str, Any],
    key: str,
    choices: dict[str, _T],
    problems: list[Problem],
) -> _T | None:
    value = data.get(key)
    if value is None:
        return None
    if value not in choices:
        accepted = ", ".join(choices)
        problems.append(
            doc.problem(
                ("tls_server_config", key),
                f"{value!r} is not supported; expected one of {accepted}",
            )
        )
        return None
    return choices[value]


def _http_settings(doc: Document, value: Any) -> list[Problem]:
    """``http2`` is accepted (this server speaks HTTP/1.1 either way);
    response headers are refused."""
    if value is None:
        return []
    if not isinstance(value, dict):
        return [doc.problem(("http_server_config",), "expected a mapping")]
    return _unknown(doc, value, ("http_server_config",), {"http2"})


def _loadable(doc: Document, tls: TlsSettings) -> list[Problem]:
    try:
        tls.context()
    except (ssl.SSLError, OSError) as exc:
        return [
            doc.problem(
                ("tls_server_config", "cert_file"),
                f"certificate and key do not load ({exc}); expected a PEM "
                "certificate chain and its matching private key",
            )
        ]
    return []
