"""deploy/kubernetes/: in sync with the generator, valid against Kubernetes'
schemas (kubernetes-validate, strict) and the Prometheus Operator's CRDs
(vendored in tests/schemas/), and wired together: selectors, ports, job,
scrape interval, and exactly the shipped rules and dashboards."""

import re
import shutil
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml
from harness.support import REPO, run_cli

from hypertool_exporter.bundle.config import BundleConfig
from hypertool_exporter.bundle.kubernetes import JOB_LABEL, write_kubernetes

KUBE = REPO / "deploy" / "kubernetes"
CRDS = REPO / "tests" / "schemas" / "prometheus-operator"
KUBERNETES_VERSION = "1.37.0"


def objects(name: str) -> list[dict]:
    return [doc for doc in yaml.safe_load_all((KUBE / name).read_text()) if doc]


def one(name: str) -> dict:
    [found] = objects(name)
    return found


ALL = {path.name: objects(path.name) for path in sorted(KUBE.glob("*.yaml"))}
CORE = [
    (n, o)
    for n, docs in ALL.items()
    for o in docs
    if "monitoring.coreos.com" not in o["apiVersion"]
]
CORE = [(n, o) for n, o in CORE if o["kind"] != "Kustomization"]
CUSTOM = [
    (n, o) for n, docs in ALL.items() for o in docs if "monitoring.coreos.com" in o["apiVersion"]
]


def test_committed_manifests_match_the_generator(tmp_path):
    (tmp_path / "deploy").mkdir()
    shutil.copy(REPO / "deploy" / "hypertool.yml", tmp_path / "deploy" / "hypertool.yml")
    written = write_kubernetes(tmp_path)
    assert sorted(p.name for p in written) == sorted(ALL)
    for path in written:
        assert path.read_text() == (KUBE / path.name).read_text(), "run `make bundle` and commit"


@pytest.mark.parametrize("name,obj", CORE, ids=lambda x: x if isinstance(x, str) else x["kind"])
def test_core_objects_are_valid_for_kubernetes(name, obj):
    kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)


def test_the_kubernetes_validator_refuses_a_misspelt_field():
    broken = yaml.safe_load(yaml.safe_dump(one("statefulset.yaml")))
    broken["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {"httpGet": {}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def crd_schema(kind: str) -> dict:
    for path in CRDS.glob("*.yaml"):
        crd = yaml.safe_load(path.read_text())
        if crd["spec"]["names"]["kind"] == kind:
            [served] = [v for v in crd["spec"]["versions"] if v["name"] == "v1"]
            return served["schema"]["openAPIV3Schema"]
    raise LookupError(kind)


def unknown_fields(value, schema, where="") -> list[str]:
    """Fields the schema does not declare: what the API server would prune
    silently (a CRD's schema allows them, so validation alone misses typos)."""
    found = []
    if isinstance(value, dict) and "properties" in schema:
        if schema.get("x-kubernetes-preserve-unknown-fields"):
            return []
        for key, item in value.items():
            if key not in schema["properties"]:
                found.append(f"{where}.{key}")
            else:
                found += unknown_fields(item, schema["properties"][key], f"{where}.{key}")
    elif isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            found += unknown_fields(item, schema["items"], f"{where}[{index}]")
    return found


@pytest.mark.parametrize("name,obj", CUSTOM, ids=lambda x: x if isinstance(x, str) else x["kind"])
def test_custom_resources_are_valid_for_the_operator_s_crds(name, obj):
    schema = crd_schema(obj["kind"])
    # The CRDs' patterns are Go's (RE2): not checked as Python patterns up front.
    jsonschema.Draft7Validator(schema).validate(obj)
    assert unknown_fields(obj["spec"], schema["properties"]["spec"], "spec") == []


def test_the_crd_check_refuses_a_misspelt_field():
    schema = crd_schema("ServiceMonitor")
    monitor = one("servicemonitor.yaml")
    typo = {
        **monitor["spec"],
        "endpoints": [{**monitor["spec"]["endpoints"][0], "intervall": "1m"}],
    }
    assert unknown_fields(typo, schema["properties"]["spec"], "spec") == [
        "spec.endpoints[0].intervall"
    ]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(schema).validate(
            {**monitor, "spec": {**monitor["spec"], "endpoints": "x"}}
        )


def test_the_prometheus_rule_carries_exactly_the_shipped_rules():
    shipped = yaml.safe_load((REPO / "alerts" / "hypertool.rules.yml").read_text())
    assert one("prometheusrule.yaml")["spec"]["groups"] == shipped["groups"]


def test_each_dashboard_is_a_config_map_for_grafana_s_sidecar():
    maps = ALL["grafana-dashboards.yaml"]
    shipped = {path.name: path.read_text() for path in (REPO / "dashboards").glob("*.json")}
    assert {key: text for m in maps for key, text in m["data"].items()} == shipped
    assert all(m["metadata"]["labels"]["grafana_dashboard"] == "1" for m in maps)


def test_the_objects_select_each_other():
    stateful = one("statefulset.yaml")
    pod = stateful["spec"]["template"]
    pod_labels = pod["metadata"]["labels"]
    service = one("service.yaml")
    [container] = pod["spec"]["containers"]
    selector = stateful["spec"]["selector"]["matchLabels"]
    assert selector.items() <= pod_labels.items()
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert stateful["spec"]["serviceName"] == service["metadata"]["name"]
    port_names = {port["name"] for port in container["ports"]}
    assert {port["targetPort"] for port in service["spec"]["ports"]} <= port_names
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/healthz", "port": "metrics"}
    # The journal sits on the volume the claim template makes.
    [claim] = stateful["spec"]["volumeClaimTemplates"]
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["HYPERTOOL_JOURNAL"].startswith(mounts[claim["metadata"]["name"]] + "/")
    config_map = one("config.yaml")
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    assert volumes["config"]["configMap"]["name"] == config_map["metadata"]["name"]
    assert env["HYPERTOOL_CONFIG"] == mounts["config"] + "/hypertool.yml"
    assert config_map["data"]["hypertool.yml"] == (REPO / "deploy" / "hypertool.yml").read_text()

    service_monitor, pod_monitor = one("servicemonitor.yaml"), one("podmonitor.yaml")
    assert service_monitor["spec"]["selector"]["matchLabels"].items() <= (
        service["metadata"]["labels"].items()
    )
    assert pod_monitor["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    assert service_monitor["spec"]["endpoints"][0]["port"] in {
        p["name"] for p in service["spec"]["ports"]
    }
    assert pod_monitor["spec"]["podMetricsEndpoints"][0]["port"] in port_names
    # The job Prometheus gives the series is the one HypertoolExporterDown watches.
    config = BundleConfig()
    job = service["metadata"]["labels"][JOB_LABEL]
    assert job == pod_labels[JOB_LABEL] == config.kubernetes_job
    assert re.fullmatch(config.exporter_job, job)
    assert service_monitor["spec"]["jobLabel"] == pod_monitor["spec"]["jobLabel"] == JOB_LABEL
    # Scraped at the interval the alert latency budget counts on.
    prometheus = yaml.safe_load((REPO / "deploy" / "prometheus.yml").read_text())
    interval = prometheus["global"]["scrape_interval"]
    assert service_monitor["spec"]["endpoints"][0]["interval"] == interval
    assert pod_monitor["spec"]["podMetricsEndpoints"][0]["interval"] == interval


def test_kustomization_applies_everything_but_the_pod_monitor():
    kustomization = one("kustomization.yaml")
    assert sorted(kustomization["resources"]) == sorted(
        set(ALL) - {"kustomization.yaml", "podmonitor.yaml"}
    )
    namespaces = {o["metadata"]["namespace"] for _, o in CORE + CUSTOM}
    assert namespaces == {kustomization["namespace"]}


def test_bundle_build_takes_the_cluster_s_names(tmp_path):
    run_cli(
        "bundle", "build", "--root", str(tmp_path), "--namespace", "ai-observability",
        "--monitor-labels", "release=kube-prometheus-stack,team=ai", "--image",
        "registry.example.com/hypertool-exporter:1.2.3", "--runbook-url",
        "https://wiki.example.com/runbook",
    )  # fmt: skip
    kube = tmp_path / "deploy" / "kubernetes"
    monitor = yaml.safe_load((kube / "servicemonitor.yaml").read_text())
    assert monitor["metadata"]["namespace"] == "ai-observability"
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert monitor["metadata"]["labels"]["team"] == "ai"
    rule = yaml.safe_load((kube / "prometheusrule.yaml").read_text())
    assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    urls = {
        r["annotations"]["runbook_url"]
        for g in rule["spec"]["groups"]
        for r in g["rules"]
        if "alert" in r
    }
    assert urls and all(url.startswith("https://wiki.example.com/runbook#") for url in urls)
    stateful = yaml.safe_load((kube / "statefulset.yaml").read_text())
    image = stateful["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image == "registry.example.com/hypertool-exporter:1.2.3"
    assert "ai-observability" in (kube / "kustomization.yaml").read_text()
    # Without the repository's example config, the config map holds a minimal one.
    config = yaml.safe_load((kube / "config.yaml").read_text())
    assert "budgets:" in config["data"]["hypertool.yml"]
    bad = run_cli("bundle", "build", "--root", str(tmp_path), "--monitor-labels", "x", check=False)
    assert bad.returncode == 2 and "--monitor-labels: 'x' is not key=value" in bad.stderr


def test_the_rule_and_dashboards_are_small_enough_to_apply():
    """kubectl's client-side apply keeps a copy of each object in an
    annotation, limited to 256 KiB."""
    for name in ("prometheusrule.yaml", "grafana-dashboards.yaml"):
        for obj in ALL[name]:
            assert len(yaml.safe_dump(obj)) < 200_000, name


def test_vendored_crds_say_where_they_come_from():
    source = (CRDS / "SOURCE.md").read_text()
    for path in CRDS.glob("*.yaml"):
        crd = yaml.safe_load(path.read_text())
        assert crd["metadata"]["annotations"]["operator.prometheus.io/version"] in source
        assert path.name.split("_")[1].split(".")[0] in source


def test_the_shipped_image_and_probes_match_the_dockerfile():
    dockerfile = (REPO / "Dockerfile").read_text()
    stateful = one("statefulset.yaml")
    pod = stateful["spec"]["template"]["spec"]
    assert f"--uid {pod['securityContext']['runAsUser']}" in dockerfile
    assert "/healthz" in dockerfile
    assert Path(pod["containers"][0]["volumeMounts"][0]["mountPath"]).as_posix() in dockerfile
