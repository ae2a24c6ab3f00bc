"""Strict loading of hand-written YAML with positions for every value.

Shared by the SLO spec (rulegen) and the watchdog config (exporter): both
must name file, line, column and key path for each mistake.
"""

from yamlsource.loader import Document, Mark, load_file, load_text
from yamlsource.problems import (
    KeyPath,
    Problem,
    UnreadableError,
    YamlSourceError,
    errors,
    format_path,
    warnings,
)

__all__ = [
    "Document",
    "KeyPath",
    "Mark",
    "Problem",
    "UnreadableError",
    "YamlSourceError",
    "errors",
    "format_path",
    "load_file",
    "load_text",
    "warnings",
]
