"""Values of the Ververica Platform 3 Helm chart, for an environment whose ``platform.vvp.version`` is
3.x (the default of target vvp-operator: the ``VvpDeployment`` it renders needs the VVP 3 operator).

- ``vvp-k8s-operator.{enabled, instanceId, watchedNamespaces}``: the operator, "disabled by default"
  with "all three parameters required"
  (https://docs.ververica.com/vvp3/user-guides/admin-operator-guide/kubernetes-operator/install);
  ``instanceId`` is the value every ``VvpDeployment`` carries as its ``ververica.platform/owner`` label;
- ``vvp-appmanager.globalDeploymentDefaults``: platform-wide deployment defaults, a YAML string that
  accepts ``flinkConfiguration``, ``kubernetes.pods``, ``resources`` and ``upgradeStrategy``
  (https://docs.ververica.com/vvp3/user-guides/admin-operator-guide/manage-configuration-settings/platform-deployment-defaults).
  That page lists the accepted fields, not their nesting: gen nests them as VVP 2's global defaults do
  (``spec.upgradeStrategy``, ``spec.template.spec.{flinkConfiguration,resources}``; docs/vvp.md).

Nothing else of the VVP 3 chart is written (its database, blob storage, license and image settings
have other keys than VVP 2's chart, and gen does not know them from a public source): give them in
a second values file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from generator import model
from generator.config.resolve import Effective
from generator.config.yamlload import load_plain
from generator.errors import InputError
from generator.model import keys
from generator.output import dump_yaml
from generator.render.context import EnvContext
from generator.targets.vvp.located import problem

TEMPLATE_FIELDS = ("flinkConfiguration", "resources")
SPEC_FIELDS = ("upgradeStrategy",)
SCHEMA = "ververica-platform-3-values.json"


def platform_defaults(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a DeploymentDefaults spec VVP 3's globalDeploymentDefaults accepts."""
    template = (spec.get("template") or {}).get("spec") or {}
    out: dict[str, Any] = {k: spec[k] for k in SPEC_FIELDS if k in spec}
    kept = {k: template[k] for k in TEMPLATE_FIELDS if k in template}
    if kept:
        out["template"] = {"spec": kept}
    return {"spec": out}


def values(
    ctx: EnvContext, effs: Sequence[Effective], defaults_spec: Mapping[str, Any], operator: bool, instance: Any
) -> dict[str, Any]:
    """The VVP 3 chart values; ``operator``: the environment runs ``VvpDeployment``s (its ``instance``:
    the agreed ``platform.vvp.operator.instanceId``)."""
    out: dict[str, Any] = {"vvp-appmanager": {"globalDeploymentDefaults": dump_yaml(platform_defaults(defaults_spec))}}
    if not operator:
        return out
    if not instance:
        raise InputError(
            [
                problem(
                    effs[0],
                    (*keys.VVP_OPERATOR, "instanceId"),
                    f"environment {ctx.env} runs the VVP 3 operator without an instanceId",
                    "set platform.vvp.operator.instanceId in the namespace defaults",
                )
            ]
        )
    watched: set[str] = set()
    for c in ctx.namespaces:
        watched.add(model.of(c.effective).kubernetes_namespace)
        watched.update(d.kubernetes_namespace for d in c.deployments)
    watched.update(model.of(e).kubernetes_namespace for e in effs)
    out["vvp-k8s-operator"] = {"enabled": True, "instanceId": str(instance), "watchedNamespaces": sorted(watched)}
    return out


def check(doc: Mapping[str, Any]) -> list[str]:
    """The values against their strict schema (``schemas/output/helm/ververica-platform-3-values.json``) and the
    defaults string against the fields VVP 3 accepts there."""
    from jsonschema import Draft202012Validator

    from generator.config.schemafiles import schema_folder

    folder = schema_folder("output/helm")
    validator = Draft202012Validator(folder.schemas[SCHEMA], registry=folder.registry)
    found = [
        f"{'.'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}" for e in validator.iter_errors(doc)
    ]
    text = (doc.get("vvp-appmanager") or {}).get("globalDeploymentDefaults")
    if isinstance(text, str):
        parsed = load_plain(text)
        spec = parsed.get("spec") if isinstance(parsed, dict) and set(parsed) == {"spec"} else None
        if not isinstance(spec, dict):
            found.append("vvp-appmanager.globalDeploymentDefaults: must be a YAML map with the single key 'spec'")
        else:
            template = (spec.get("template") or {}).get("spec") or {}
            extra = [k for k in spec if k not in (*SPEC_FIELDS, "template")]
            extra += [f"template.spec.{k}" for k in template if k not in TEMPLATE_FIELDS]
            found.extend(f"vvp-appmanager.globalDeploymentDefaults: spec.{k} is not accepted there" for k in extra)
    return found
