"""The one rule for which strings gen evaluates as Jinja2.

gen renders every string value of a layer file (and of ``--set``) that holds ``{{`` or ``{%`` as a
Jinja2 expression over ``env``, ``namespace`` and ``platform`` (docs/real-jobs.md, "Which strings are
templates"), except the values listed here: each is another program's template, which reaches the
output exactly as written.

- ``spec.template.spec.logging.log4j2ConfigurationTemplate``: Ververica Platform's own (Twig)
  logging template (https://docs.ververica.com/vvp/user-guide/application-operations/deployments/logging);
- ``platform.flinkOperator.logConfiguration``: whole logging configurations the Flink pods read;
- ``platform.flinkOperator.ingress.template``: the operator's URL template with its ``{{name}}`` and
  ``{{namespace}}`` placeholders.

Anywhere else a literal ``{{`` is written as a Jinja2 string: ``{{ '{{' }}``.
"""

from __future__ import annotations

from generator.config.yamlload import Path_

#: key paths whose values (and everything below them) are never evaluated as templates
VERBATIM: tuple[Path_, ...] = (
    ("spec", "template", "spec", "logging", "log4j2ConfigurationTemplate"),
    ("platform", "flinkOperator", "logConfiguration"),
    ("platform", "flinkOperator", "ingress", "template"),
)


def is_verbatim(path: Path_) -> bool:
    """Whether the value at ``path`` reaches the output as written."""
    return any(path[: len(prefix)] == prefix for prefix in VERBATIM)
