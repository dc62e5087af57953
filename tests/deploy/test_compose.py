"""docker-compose.yml and docker/Dockerfile, checked without a Docker engine (there is none here)."""

from __future__ import annotations

import os
import re

import pytest

from tests.deploy.files import ROOT, compose, dockerfile_stages, load_script, repo_path

APP_SERVICES = ("web", "worker", "beat", "flower")
SERVICES = ("postgres", "redis", *APP_SERVICES, "nginx")
# Only with `--profile monitoring` (docs/observability.md).
MONITORING = ("prometheus", "grafana")


@pytest.fixture(scope="module")
def services() -> dict:
    return compose()["services"]


def test_the_stack_has_every_container_of_the_spec(services):
    # Optional services (a compose profile, like MinIO for the NFS-e documents) are not part of the default stack.
    assert {name for name, spec in services.items() if not spec.get("profiles")} == set(SERVICES)
    assert all(services[name]["profiles"] == ["monitoring"] for name in MONITORING)
    assert services["postgres"]["image"].startswith("postgres:17")
    assert services["redis"]["image"].startswith("redis:7")


@pytest.mark.parametrize("name", [*SERVICES, "minio", *MONITORING])
def test_every_service_has_a_health_check(services, name):
    healthcheck = services[name].get("healthcheck")
    assert healthcheck and healthcheck.get("test"), f"{name} has no health check"
    assert healthcheck["test"][0] in {"CMD", "CMD-SHELL"}
    for key in ("interval", "timeout", "retries", "start_period"):
        assert key in healthcheck, f"{name}'s health check has no {key}"


@pytest.mark.parametrize("name", [*SERVICES, *MONITORING])
def test_dependencies_wait_for_health_not_just_for_start(services, name):
    depends_on = services[name].get("depends_on", {})
    assert isinstance(depends_on, dict), f"{name}: depends_on must name a condition"
    for dependency, spec in depends_on.items():
        assert dependency in services
        assert spec == {"condition": "service_healthy"}, f"{name} → {dependency}: {spec}"


def test_workers_beat_and_flower_start_after_web_has_migrated(services):
    for name in ("worker", "beat"):
        assert services[name]["depends_on"]["web"] == {"condition": "service_healthy"}
    assert services["flower"]["depends_on"]["worker"] == {"condition": "service_healthy"}
    assert services["nginx"]["depends_on"]["web"] == {"condition": "service_healthy"}


def test_data_lives_in_named_volumes(services):
    volumes = compose()["volumes"]
    assert services["postgres"]["volumes"] == ["pgdata:/var/lib/postgresql/data"]
    assert services["redis"]["volumes"] == ["redisdata:/data"]
    assert {"pgdata", "redisdata"} <= set(volumes)


def test_redis_never_evicts_and_persists(services):
    command = services["redis"]["command"]
    assert command[command.index("--maxmemory-policy") + 1] == "noeviction"
    assert command[command.index("--appendonly") + 1] == "yes"
    assert "--save" in command


def _stage_for(service: dict) -> str:
    return service["build"]["target"]


@pytest.mark.parametrize("name", [*APP_SERVICES, "nginx"])
def test_every_command_is_an_executable_script_of_this_repository(services, name):
    service = services[name]
    stage = dockerfile_stages()[_stage_for(service)]
    command = service["command"]
    script = repo_path(stage, command[0])
    assert script is not None, f"{name}: no COPY in the Dockerfile provides {command[0]}"
    assert script.is_file(), f"{name}: {command[0]} → {script} does not exist"
    assert os.access(script, os.X_OK), f"{name}: {script} is not executable"
    assert script.read_text().startswith("#!"), f"{script} has no shebang"


@pytest.mark.parametrize("name", [*APP_SERVICES, "nginx"])
def test_every_script_a_health_check_names_exists(services, name):
    service = services[name]
    test = service["healthcheck"]["test"]
    stage = dockerfile_stages()[_stage_for(service)]
    if test[1] == "python":
        script = repo_path(stage, test[2])
        assert script is not None and script.is_file(), f"{name}: {test[2]} does not exist"
        assert test[3] in load_script("docker/healthcheck.py").CHECKS, f"{name}: healthcheck.py has no {test[3]!r} check"
    else:
        assert test[1] in {"wget", "pg_isready"} or test[0] == "CMD-SHELL"


def test_the_app_image_is_slim_non_root_pinned_and_collects_static_at_build():
    stage = dockerfile_stages()["app"]
    assert re.fullmatch(r"python:3\.\d+-slim(-\w+)?", stage.base), stage.base
    assert stage.user not in {"root", "0"}, "the app image must run as an unprivileged user"
    assert ("docker/requirements.txt", "/tmp/requirements.txt") in stage.copies
    assert any("pip install" in run and "-r /tmp/requirements.txt" in run for run in stage.runs)
    assert any("manage.py collectstatic --noinput" in run for run in stage.runs)
    lock_header = (ROOT / "docker" / "requirements.txt").read_text().splitlines()[1]
    python = stage.base.split(":")[1].split("-")[0]
    assert f"Python {python})" in lock_header, "the image's Python differs from the one the lock was made with"


def test_the_nginx_image_carries_this_builds_static_files():
    text = (ROOT / "docker" / "Dockerfile").read_text()
    assert "COPY --from=app /app/var/static /srv/static" in text
    assert dockerfile_stages()["nginx"].base.startswith("nginx:")


def test_app_services_share_one_image_and_nginx_has_its_own(services):
    images = {services[name]["image"] for name in APP_SERVICES}
    assert len(images) == 1
    assert services["nginx"]["image"] not in images
    for name in APP_SERVICES:
        assert services[name]["build"] == {"context": ".", "dockerfile": "docker/Dockerfile", "target": "app"}
        assert services[name]["init"] is True
        assert services[name]["restart"] == "unless-stopped"


def test_only_the_web_start_migrates():
    assert "docker/migrate.py" in (ROOT / "docker" / "start-web").read_text()
    for name in ("start-worker", "start-beat", "start-flower"):
        text = (ROOT / "docker" / name).read_text()
        assert "migrate" not in text.replace("wait_for_services_and_migrations", ""), f"{name} must not migrate"


def test_beat_is_never_scaled(services):
    beat = services["beat"]
    assert "scale" not in beat and "replicas" not in beat.get("deploy", {})
    assert "docker/singleton.py --name beat" in (ROOT / "docker" / "start-beat").read_text()


def test_workers_get_longer_to_stop_than_celerys_soft_shutdown(services, settings):
    grace = services["worker"]["stop_grace_period"]
    assert grace.endswith("s") and int(grace[:-1]) > settings.CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT


def test_only_nginx_publishes_a_port(services):
    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"nginx", "grafana"}
    # Grafana only on the host's loopback: never public.
    assert all(port.startswith("127.0.0.1:") for port in services["grafana"]["ports"])


def test_the_dockerignore_keeps_local_state_and_secrets_out_of_the_image():
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".git", ".venv", "var", ".env"} <= ignored


def test_minio_is_optional_unpublished_persistent_and_the_nfse_documents_have_their_volume(services):
    minio = services["minio"]
    assert minio["profiles"] == ["s3"] and "ports" not in minio
    assert minio["volumes"] == ["nfse-s3:/data"] and {"nfse", "nfse-s3"} <= set(compose()["volumes"])
    assert "nfse:/app/var/nfse" in services["worker"]["volumes"] and "nfse:/app/var/nfse" in services["web"]["volumes"]
