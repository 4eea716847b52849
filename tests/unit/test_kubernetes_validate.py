"""Every Kubernetes object gen renders, for every profile x environment (and every target), passes the
Kubernetes OpenAPI schemas in strict mode for the versions gen claims, checked with the
kubernetes-validate library itself; PodMonitor and PrometheusRule pass our own strict CRD schemas.
gen's render-time validator (compiled once per process) must agree with the library and catch errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

from generator.errors import RenderError
from generator.validate import kubernetes as k8s
from generator.validate import outputs
from generator.validate.crd_schemas import check_crd
from tests.kubernetes_support import ENVS, PROFILES, objects, render_docs, single_profile_config

CLAIMED = ("1.29", "1.33")
BUILTIN = {"ServiceAccount", "Role", "RoleBinding", "NetworkPolicy", "ResourceQuota", "LimitRange"}
CRDS = {"PodMonitor", "PrometheusRule"}


@pytest.fixture(scope="module")
def configs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("profiles")
    return {profile: single_profile_config(root / profile, profile) for profile in PROFILES}


def _kinds(docs: list[dict[str, Any]]) -> set[str]:
    return {str(d["kind"]) for d in docs}


@pytest.mark.parametrize("target", ["vvp", "flink-operator"])
@pytest.mark.parametrize("env", ENVS)
@pytest.mark.parametrize("profile", PROFILES)
def test_every_object_passes_strict_schemas(configs: dict[str, Path], profile: str, env: str, target: str) -> None:
    docs = objects(render_docs(env, configs[profile], target=target))
    assert _kinds(docs) >= BUILTIN | CRDS
    for doc in docs:
        name = f"{doc['kind']}/{doc['metadata']['name']}"
        if doc["kind"] in CRDS:
            assert check_crd(doc) == [], name
            continue
        if doc["kind"] not in BUILTIN:
            continue  # the target's own resources (FlinkDeployment, ...) have their own tests
        for version in CLAIMED:
            try:
                assert kubernetes_validate.validate(doc, version, strict=True) == version
            except kubernetes_validate.ValidationError as exc:  # pragma: no cover - the failure message
                pytest.fail(f"{name} is invalid for Kubernetes {version}: {list(exc.path)}: {exc.message}")
        assert k8s.problems(doc) == [], name


def test_gen_claims_the_required_versions() -> None:
    assert set(CLAIMED) <= set(k8s.KUBERNETES_VERSIONS)


POLICY: dict[str, Any] = {
    "apiVersion": "networking.k8s.io/v1",
    "kind": "NetworkPolicy",
    "metadata": {"name": "p", "namespace": "flink"},
    "spec": {"podSelector": {}, "policyTypes": ["Ingress"]},
}


def _with(path: tuple[str, ...], value: Any, doc: dict[str, Any] | None = None) -> dict[str, Any]:
    import copy

    result = copy.deepcopy(doc or POLICY)
    node = result
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return result


@pytest.mark.parametrize(
    ("doc", "fragment"),
    [
        (_with(("spec", "ingres"), []), "'ingres' was unexpected"),
        (_with(("spec", "ingress"), [{"ports": [{"port": [9249]}]}]), "spec.ingress[0].ports[0].port"),
        (_with(("spec", "ingress"), [{"ports": [{"port": 9250, "endPort": 9249}]}]), "below port 9250"),
        (_with(("metadata", "name"), "Not_Valid"), "metadata.name"),
        (_with(("metadata", "labels"), {"team": "a b"}), "not a valid label value"),
        (_with(("spec", "podSelector"), {"matchLabels": {"-bad": "x"}}), "not a valid label key"),
        (
            {
                "apiVersion": "v1",
                "kind": "ServiceAccount",
                "metadata": {"name": "sa", "namespace": "flink"},
                "automountServiceAccountToken": "yes",
            },
            "is not of type 'boolean'",
        ),
        (
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "RoleBinding",
                "metadata": {"name": "rb", "namespace": "flink"},
                "subjects": [],
            },
            "'roleRef' is a required property",
        ),
    ],
)
def test_render_time_validator_rejects_what_kubernetes_would(doc: dict[str, Any], fragment: str) -> None:
    found = outputs.problems(doc)
    assert any(fragment in line for line in found), found


def test_a_kind_nobody_registered_is_a_clear_error() -> None:
    doc = {"apiVersion": "v1", "kind": "Frobnicator", "metadata": {"name": "x", "namespace": "flink"}}
    assert any("no Kubernetes schema" in line for line in k8s.problems(doc))
    with pytest.raises(RenderError, match="no output kind is registered for 'v1 Frobnicator'"):
        outputs.problems(doc)


def test_version_specific_requirements_name_the_versions() -> None:
    spec_without_selector = _with(("spec",), {"policyTypes": ["Ingress"]})
    found = k8s.problems(spec_without_selector)
    assert any("'podSelector' is a required property" in line for line in found), found
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(spec_without_selector, "1.29", strict=True)


def test_render_fails_on_an_invalid_object_instead_of_writing_it() -> None:
    with pytest.raises(RenderError, match="ingres"):
        outputs.check(_with(("spec", "ingres"), []), "flink")


def test_validators_are_compiled_once_per_process() -> None:
    k8s.problems(POLICY)
    before = k8s.validator.cache_info()
    for _ in range(20):
        k8s.problems(POLICY)
    after = k8s.validator.cache_info()
    assert after.misses == before.misses
    assert after.hits >= before.hits + 20 * len(k8s.schema_groups("networking.k8s.io/v1", "NetworkPolicy"))
    assert k8s.validator("1.29", "networking.k8s.io/v1", "NetworkPolicy") is k8s.validator(
        "1.29", "networking.k8s.io/v1", "NetworkPolicy"
    )


# -- pod templates found valid are trusted by their digest ------------------------------------------
def _template(**spec: Any) -> dict[str, Any]:
    return {"metadata": {"labels": {"app": "flink"}}, "spec": {"containers": [{"name": "flink"}], **spec}}


def test_a_pod_template_found_valid_is_not_checked_again_and_is_recorded(monkeypatch: pytest.MonkeyPatch) -> None:
    from generator.validate import kubernetes as k8s

    checked: list[Any] = []
    real = k8s._pod_template_problems
    monkeypatch.setattr(k8s, "_pod_template_problems", lambda t: checked.append(t) or real(t))
    valid = _template(nodeSelector={"pool": "flink"}, hostname="a")
    with k8s.known_valid_templates(()) as found:
        assert k8s.pod_template_problems(valid) == []
        # the same template with its keys in another order, built anew: trusted
        again = {"spec": {"hostname": "a", "nodeSelector": {"pool": "flink"}, "containers": [{"name": "flink"}]}}
        assert k8s.pod_template_problems({**again, "metadata": {"labels": {"app": "flink"}}}) == []
    assert len(checked) == 1 and len(found) == 1
    # an invalid one is never trusted: checked (and reported) every time
    invalid = _template(hostname=5)
    assert k8s.pod_template_problems(invalid) and k8s.pod_template_problems(invalid)
    assert len(checked) == 3
    # other types are other templates: 5 and "5", a list and a tuple
    assert k8s._template_digest(_template(x=5)) != k8s._template_digest(_template(x="5"))
    assert k8s._template_digest(_template(x=[1])) != k8s._template_digest(_template(x=(1,)))


def test_digests_from_an_earlier_render_are_trusted_and_passed_on(monkeypatch: pytest.MonkeyPatch) -> None:
    from generator.validate import kubernetes as k8s

    monkeypatch.setattr(k8s, "_pod_template_problems", lambda t: pytest.fail("checked again"))
    known = k8s._template_digest(_template())
    assert known is not None
    with k8s.known_valid_templates({known}) as found:
        assert k8s.pod_template_problems(_template()) == []
    assert found == {known}  # the next render gets it again


def test_nested_blocks_each_record_what_was_found_inside_them() -> None:
    from generator.validate import kubernetes as k8s

    with k8s.known_valid_templates(()) as outer:
        with k8s.known_valid_templates(()) as inner:
            assert k8s.pod_template_problems(_template(hostname="inner")) == []
        assert k8s.pod_template_problems(_template(hostname="outer")) == []
    assert len(inner) == 1 and len(outer) == 2 and inner < outer
