"""docker-compose.observability.yml and the Dockerfile, validated without a Docker engine."""

import os
import re
import subprocess

import yaml
from harness.support import REPO, require_binary

COMPOSE = REPO / "docker-compose.observability.yml"


def compose_config(env: dict) -> subprocess.CompletedProcess:
    binary = require_binary("docker-compose")
    return subprocess.run(
        [binary, "-f", str(COMPOSE), "config"],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, **env},
    )


def test_compose_file_is_valid_and_follows_the_rules():
    result = compose_config({"GRAFANA_ADMIN_PASSWORD": "test-only-password"})
    assert result.returncode == 0, result.stderr
    config = yaml.safe_load(result.stdout)
    services = config["services"]
    assert set(services) == {"exporter", "prometheus", "alertmanager", "grafana"}
    for name, service in services.items():
        assert "healthcheck" in service, f"{name} has no healthcheck"
        if name != "exporter":
            image = service["image"]
            assert re.search(r":v?\d+\.\d+\.\d+$", image), f"{name}: unpinned image {image}"
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"
    assert services["exporter"]["build"]["context"] == str(REPO)
    assert set(config["volumes"]) >= {
        "hypertool-journal",
        "prometheus-data",
        "alertmanager-data",
        "grafana-data",
    }
    grafana = services["grafana"]["environment"]
    assert grafana["GF_AUTH_ANONYMOUS_ENABLED"] == "false"
    assert grafana["GF_SECURITY_ADMIN_PASSWORD"] == "test-only-password"
    prometheus_mounts = {
        target: source
        for source, target, _mode in (v.split(":") for v in services["prometheus"]["volumes"])
    }
    assert prometheus_mounts["/etc/prometheus/prometheus.yml"] == str(
        REPO / "deploy" / "prometheus.yml"
    )
    assert prometheus_mounts["/etc/prometheus/alerts"] == str(REPO / "alerts")


def test_compose_refuses_to_start_grafana_without_an_admin_password():
    env = {k: v for k, v in os.environ.items() if k != "GRAFANA_ADMIN_PASSWORD"}
    result = subprocess.run(
        [require_binary("docker-compose"), "-f", str(COMPOSE), "config"],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
    )
    assert result.returncode != 0 and "GRAFANA_ADMIN_PASSWORD" in result.stderr


def test_dockerfile_is_slim_and_non_root():
    text = (REPO / "Dockerfile").read_text()
    assert re.findall(r"^FROM python:3\.\d+-slim", text, re.M)
    user = re.findall(r"^USER (\S+)", text, re.M)
    assert user and user[-1] not in ("root", "0")
    assert "EXPOSE 9464" in text and "HEALTHCHECK" in text


def test_grafana_provisioning_points_at_the_dashboards():
    datasource = yaml.safe_load(
        (REPO / "dashboards/provisioning/datasources/prometheus.yml").read_text()
    )
    (prom,) = [d for d in datasource["datasources"] if d["type"] == "prometheus"]
    assert prom["uid"] == "prometheus" and prom["name"] == "Prometheus"
    assert prom["jsonData"]["exemplarTraceIdDestinations"][0]["name"] == "trace_id"
    provider = yaml.safe_load(
        (REPO / "dashboards/provisioning/dashboards/hypertool.yml").read_text()
    )
    path = provider["providers"][0]["options"]["path"]
    compose = yaml.safe_load(COMPOSE.read_text())
    mounts = compose["services"]["grafana"]["volumes"]
    assert f"./dashboards:{path}:ro" in mounts
