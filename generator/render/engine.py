"""Our own Jinja2 templates (package data): compiled once per process, rendered with
StrictUndefined, parsed back into data so every document can be validated before any write."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import jinja2
import yaml

from generator.errors import RenderError

try:
    _Loader: type[Any] = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _Loader = yaml.SafeLoader


def _json(value: Any) -> str:
    """Any value as a JSON (hence YAML flow) literal: quoting is never a template's job."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("generator", "templates"),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["json"] = _json
    return env


@cache
def template(name: str) -> jinja2.Template:
    return environment().get_template(name)


def render_template(template_name: str, /, **context: Any) -> dict[str, Any]:
    """Render one of our templates and parse it back; a failure here is a bug, never user input."""
    try:
        text = template(template_name).render(**context)
    except jinja2.TemplateError as exc:
        raise RenderError(f"template {template_name} failed: {exc}") from exc
    try:
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise RenderError(f"template {template_name} produced invalid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise RenderError(f"template {template_name} did not produce a map")
    return data
