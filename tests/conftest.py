"""Shared test fixtures and options."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite the expected outputs of golden tests instead of comparing",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A temporary directory that uid 65534 can reach too (pytest's
    tmp_path sits under root's own)."""
    base = Path(tempfile.mkdtemp(prefix="rw-shared-"))
    base.chmod(0o755)
    try:
        yield base
    finally:
        shutil.rmtree(base)
