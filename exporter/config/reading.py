"""Reading the config's YAML through yamlsource, with every failure of the
YAML layer turned into Problems: unreadable files and parse errors raise
ConfigUnreadable; what ruamel.yaml only warns about becomes a problem."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from pathlib import Path

from ruamel.yaml.error import YAMLWarning

from exporter.config.errors import ConfigUnreadable
from yamlsource import Document, Problem, UnreadableError, load_file, load_text

_POSITION = re.compile(r"line (\d+), column (\d+)")


def read_file(path: Path) -> Document:
    return _guarded(str(path), lambda: load_file(path))


def read_text(text: str, name: str) -> Document:
    return _guarded(name, lambda: load_text(text, name))


def _guarded(name: str, load: Callable[[], Document]) -> Document:
    # Known shortcoming: catch_warnings swaps process-wide state, so a
    # warning another thread raises meanwhile is recorded here and dropped.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", YAMLWarning)
        try:
            doc = load()
        except UnreadableError as exc:
            raise ConfigUnreadable(name, exc.problems) from None
    for warning in caught:
        if isinstance(warning.message, YAMLWarning):
            doc.problems.append(_warned(name, warning.message))
        else:  # not ours to judge: hand it on unchanged
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )
    return doc


def _warned(name: str, warning: YAMLWarning) -> Problem:
    """A ruamel.yaml warning (a reused anchor, a YAML 1.1 float) as an error
    at the offending node: the warning's node, else the last position its
    text names (a reused anchor's second occurrence)."""
    text = str(warning)
    node = getattr(warning, "node", None)
    positions = _POSITION.findall(text)
    if node is not None:
        line, column = node.start_mark.line + 1, node.start_mark.column + 1
    elif positions:
        line, column = int(positions[-1][0]), int(positions[-1][1])
    else:
        line, column = 1, 1
    summary = next((part.strip() for part in text.splitlines() if part.strip()), "")
    expected = (
        "each anchor defined once"
        if "anchor" in summary
        else "plain YAML 1.2, without a %YAML 1.1 directive"
    )
    message = f"ambiguous YAML: {summary.rstrip('.')}; expected {expected}"
    return Problem(name, line, column, "(document)", message)
