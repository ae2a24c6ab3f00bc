"""HTTP basic auth against bcrypt hashes (the exporter-toolkit convention).

A bcrypt check costs tens of milliseconds by design, far more than a
scrape, so a successful check is remembered (by a SHA-256 of the header,
never the password itself) and later scrapes with the same credentials pay
one dictionary look-up. An unknown user still costs one bcrypt check, so the
response time does not reveal which user names exist.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import threading
from collections.abc import Mapping

import bcrypt

_REMEMBERED = 64  # successful credentials kept; the oldest go first
# A hash (cost 10, like htpasswd -B) of a password nobody knows, checked for
# unknown users; computing one at import would cost 60 ms.
_DECOY = b"$2b$10$v837KnNPZB0g7tXRvQGuDee3SOTDQyZluxPCSIcDisDVRb/sLgm/m"


class BasicAuth:
    def __init__(self, users: Mapping[str, bytes]) -> None:
        self._users = dict(users)
        self._verified: dict[bytes, None] = {}  # insertion-ordered set
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return bool(self._users)

    def allows(self, header: str | None) -> bool:
        """Whether an ``Authorization`` header carries valid credentials
        (always True when no users are configured)."""
        if not self._users:
            return True
        if header is None or not header.startswith("Basic "):
            return False
        digest = hashlib.sha256(header.encode("utf-8", "surrogateescape")).digest()
        with self._lock:
            if digest in self._verified:
                return True
        credentials = _decode(header[len("Basic ") :])
        if credentials is None:
            return False
        user, password = credentials
        hashed = self._users.get(user)
        valid = bcrypt.checkpw(password, hashed or _DECOY) and hashed is not None
        if valid:
            self._remember(digest)
        return valid

    def _remember(self, digest: bytes) -> None:
        with self._lock:
            self._verified[digest] = None
            while len(self._verified) > _REMEMBERED:
                del self._verified[next(iter(self._verified))]


def _decode(encoded: str) -> tuple[str, bytes] | None:
    try:
        text = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    user, colon, password = text.partition(b":")
    if not colon:
        return None
    return user.decode("utf-8", "replace"), password
