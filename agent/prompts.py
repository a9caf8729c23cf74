"""Render the prompt and question templates kept as files in `prompts/`."""

from __future__ import annotations

from functools import cache

from agent.paths import resource


@cache
def _env():
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(resource("prompts")),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
    )


def render(template: str, /, **variables: object) -> str:
    """Render a template file from `prompts/`, or an inline template string, strictly."""
    env = _env()
    if template.endswith((".j2", ".jinja")):
        return env.get_template(template).render(**variables).strip()
    return _compile(template).render(**variables).strip()


@cache
def _compile(source: str):
    return _env().from_string(source)
