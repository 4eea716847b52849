"""The merge of VVP's pod options into a pod template (generator.render.pod_options), rule by rule."""

from __future__ import annotations

from typing import Any

from generator.render.pod_options import from_options, merge_into

TOLERATION = {"key": "dedicated", "operator": "Equal", "value": "flink", "effect": "NoSchedule"}


def _template() -> dict[str, Any]:
    return {
        "metadata": {"annotations": {"owner": "scoring"}},
        "spec": {
            "containers": [
                {"name": "log-shipper", "image": "fluent-bit:3.1.9"},
                {"name": "flink-main-container", "env": [{"name": "TZ", "value": "UTC"}]},
            ],
            "tolerations": [{"key": "spot", "operator": "Exists"}],
            "volumes": [{"name": "logs", "emptyDir": {}}],
        },
    }


def test_every_option_lands_in_the_pod_or_the_flink_container() -> None:
    pods = {
        "labels": {"team": "risk"},
        "nodeSelector": {"pool": "flink"},
        "tolerations": [TOLERATION],
        "securityContext": {"runAsUser": 9999},
        "imagePullSecrets": [{"name": "mirror"}],
        "envVars": [{"name": "JOB_OWNER", "value": "risk"}],
        "volumeMounts": [{"name": "cfg", "volume": {"configMap": {"name": "cfg"}}, "volumeMount": {"mountPath": "/c"}}],
    }
    template = _template()
    assert merge_into(template, from_options(pods, "flink-main-container"), 1) == []
    spec = template["spec"]
    assert template["metadata"] == {"annotations": {"owner": "scoring"}, "labels": {"team": "risk"}}
    assert spec["nodeSelector"] == {"pool": "flink"}
    assert spec["tolerations"] == [{"key": "spot", "operator": "Exists"}, TOLERATION]  # united
    assert spec["securityContext"] == {"runAsUser": 9999}
    assert spec["imagePullSecrets"] == [{"name": "mirror"}]
    assert [v["name"] for v in spec["volumes"]] == ["logs", "cfg"]
    flink = spec["containers"][1]
    assert flink["env"] == [{"name": "TZ", "value": "UTC"}, {"name": "JOB_OWNER", "value": "risk"}]
    assert flink["volumeMounts"] == [{"mountPath": "/c", "name": "cfg"}]
    assert "env" not in spec["containers"][0]  # the sidecar gets none of it


def test_the_same_value_twice_is_no_conflict() -> None:
    template = _template()
    template["spec"]["tolerations"].append(TOLERATION)
    options = from_options({"tolerations": [TOLERATION], "envVars": [{"name": "TZ", "value": "UTC"}]}, "x")
    assert merge_into(template, options, 1) == []
    assert template["spec"]["tolerations"].count(TOLERATION) == 1
    assert len(template["spec"]["containers"][1]["env"]) == 1


def test_two_values_for_one_key_are_conflicts_with_both_places() -> None:
    template = _template()
    template["spec"]["nodeSelector"] = {"pool": "batch"}
    template["spec"]["affinity"] = {"nodeAffinity": {"preferred": [1]}}
    pods = {
        "nodeSelector": {"pool": "flink"},
        "affinity": {"nodeAffinity": {"preferred": [2]}},
        "envVars": [{"name": "TZ", "value": "Europe/Berlin"}],
        "volumeMounts": [{"name": "logs", "volume": {"configMap": {"name": "x"}}, "volumeMount": {"mountPath": "/l"}}],
    }
    found = {c.template_path: c for c in merge_into(template, from_options(pods, "x"), 1)}
    assert set(found) == {
        ("spec", "nodeSelector", "pool"),
        ("spec", "affinity", "nodeAffinity", "preferred"),  # a list of rules is never united
        ("spec", "containers", 1, "env", 0),
        ("spec", "volumes", 0),
    }
    assert found[("spec", "nodeSelector", "pool")].options_path == ("spec", "nodeSelector", "pool")
    assert found[("spec", "nodeSelector", "pool")].template_value == "batch"
    assert found[("spec", "containers", 1, "env", 0)].options_path == ("spec", "containers", 0, "env", 0)
    assert template["spec"]["nodeSelector"] == {"pool": "batch"}  # a conflict is reported, never resolved
