"""Serving ``/metrics`` over HTTP, or HTTPS with basic auth when a web
config asks for it.

A scrape renders the numbers the sampling thread already computed (see
``exporter.metrics``): no ``/proc`` access, no waiting on a sample, the same
cost for one Prometheus server or two. The registry holds only the
exporter's own collector: the client library's process collector lists
``/proc/self/fd`` on every scrape, which with thousands of held descriptors
costs milliseconds; the exporter's memory and CPU come from the sampler.

Each connection gets a thread; a TLS handshake happens there, so a slow
client holds up nobody else.
"""

from __future__ import annotations

import logging
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import CollectorRegistry

from exporter.basicauth import BasicAuth
from exporter.metrics import ExporterCollector, ExporterMetrics
from exporter.webconfig import WebConfig

logger = logging.getLogger(__name__)

CONNECTION_TIMEOUT_SECONDS = 30.0
_LANDING = """<html><head><title>runner-watchdog</title></head><body>
<h1>runner-watchdog exporter</h1><p><a href="{path}">Metrics</a></p>
</body></html>
"""


class MetricsServer:
    """Binds at construction (so a busy port fails at start), serves on a
    thread after ``start``."""

    def __init__(
        self,
        address: str,
        port: int,
        path: str,
        metrics: ExporterMetrics,
        web: WebConfig | None = None,
    ) -> None:
        self.path = path
        self.metrics = metrics
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(ExporterCollector(metrics))
        self.auth = BasicAuth(web.users if web else {})
        self._tls_context = web.tls.context() if web and web.tls else None
        self._httpd = _Server(address, port, self)
        self._thread: threading.Thread | None = None

    @property
    def tls(self) -> bool:
        return self._tls_context is not None

    @property
    def url(self) -> str:
        address = self._httpd.server_address
        host = address[0].decode() if isinstance(address[0], bytes) else address[0]
        port = address[1]
        shown = f"[{host}]" if ":" in host else host
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{shown}:{port}{self.path}"

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="http", daemon=True
        )
        self._thread.start()

    def use_web_config(self, web: WebConfig | None) -> None:
        """Apply a reloaded web config: users and certificates change at once;
        turning TLS on or off needs a restart (the listener stays as it is)."""
        tls = web.tls if web else None
        if (tls is None) != (self._tls_context is None):
            logger.warning("tls on or off needs a restart; keeping the listener")
        elif tls is not None and self._tls_context is not None:
            self._tls_context.load_cert_chain(tls.cert_file, tls.key_file)
        self.auth = BasicAuth(web.users if web else {})

    def render(self) -> bytes:
        """The metrics page; times itself into the scrape histogram."""
        started = time.perf_counter()
        body = generate_latest(self.registry)
        self.metrics.observe_scrape(time.perf_counter() - started)
        return body

    def wrap(self, connection: socket.socket) -> socket.socket:
        if self._tls_context is None:
            return connection
        return self._tls_context.wrap_socket(
            connection, server_side=True, do_handshake_on_connect=False
        )

    def close(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
        self._httpd.server_close()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: str, port: int, owner: MetricsServer) -> None:
        self.owner = owner
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        self.address_family = family
        super().__init__((address, port), _Handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        connection, client = self.socket.accept()
        # Headers and body leave in two writes; without this, Nagle and the
        # client's delayed ACK hold the body back 40 ms on a kept-alive
        # connection.
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return self.owner.wrap(connection), client

    def handle_error(self, request: Any, client_address: Any) -> None:
        logger.debug("connection failed client=%s", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    timeout = CONNECTION_TIMEOUT_SECONDS
    server_version = "runner-watchdog"

    def setup(self) -> None:
        super().setup()
        if isinstance(self.connection, ssl.SSLSocket):
            self.connection.do_handshake()

    def do_GET(self) -> None:
        owner = self.server.owner
        if not owner.auth.allows(self.headers.get("Authorization")):
            self._send(401, b"Unauthorized\n", "text/plain; charset=utf-8", auth=True)
            return
        path = urlsplit(self.path).path
        if path == owner.path:
            self._send(200, owner.render(), CONTENT_TYPE_LATEST)
        elif path == "/":
            page = _LANDING.format(path=owner.path).encode()
            self._send(200, page, "text/html; charset=utf-8")
        else:
            self._send(404, b"Not Found\n", "text/plain; charset=utf-8")

    def _send(
        self, code: int, body: bytes, content_type: str, auth: bool = False
    ) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if auth:
            self.send_header("WWW-Authenticate", 'Basic realm="runner-watchdog"')
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("http %s", format % args)
