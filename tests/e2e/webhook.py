"""A webhook receiver on loopback: records every POST Alertmanager makes,
by path, with its JSON body."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Notification:
    path: str
    body: dict[str, Any]

    def alerts(self, alertname: str) -> list[dict[str, Any]]:
        found = self.body.get("alerts", [])
        return [a for a in found if a.get("labels", {}).get("alertname") == alertname]


class WebhookReceiver:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._received: list[Notification] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                receiver._record(Notification(self.path, body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return  # no access log on the test's stderr

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def received(self, prefix: str = "/") -> list[Notification]:
        with self._lock:
            return [n for n in self._received if n.path.startswith(prefix)]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def _record(self, notification: Notification) -> None:
        with self._lock:
            self._received.append(notification)
