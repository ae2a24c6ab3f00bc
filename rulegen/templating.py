"""Rendering rulegen's Jinja2 templates (under ``rulegen/templates``).

Alertmanager's notification templates are Go templates, whose ``{{ }}``
Jinja2 would read as its own: those are rendered with ``[[ ]]`` and
``[% %]`` instead.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import jinja2

from rulegen import durations


def render(name: str, **context: Any) -> str:
    """The template ``name`` (``.j2``, or ``.tmpl.j2`` for Go templates)."""
    go_syntax = name.endswith(".tmpl.j2")
    return _environment(go_syntax).get_template(name).render(**context)


@cache
def _environment(go_syntax: bool) -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("rulegen", "templates"),
        autoescape=False,  # Markdown and Go templates, never HTML
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["duration"] = durations.render
    if go_syntax:
        environment.variable_start_string = "[["
        environment.variable_end_string = "]]"
        environment.block_start_string = "[%"
        environment.block_end_string = "%]"
        environment.comment_start_string = "[#"
        environment.comment_end_string = "#]"
    return environment
