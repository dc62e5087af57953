# shellcheck shell=bash
# Sourced by every start script: the project root as working directory, production settings unless
# told otherwise, and the wait for PostgreSQL and Redis. The scripts run the same way in the image
# (/app) and in a checkout, so they can be exercised without Docker (tests/deploy/test_stack.py).

PROJECT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$PROJECT_ROOT" || exit 1

export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-config.django.production}"
export PYTHONUNBUFFERED=1
PYTHON="${PYTHON:-python}"

log() {
  printf '[%s] %s\n' "$(basename "$0")" "$*" >&2
}

# Waits until PostgreSQL, Redis and the broker answer (WAIT_FOR_SERVICES_TIMEOUT seconds, default 60).
wait_for_services() {
  "$PYTHON" docker/wait_for_services.py
}

# The same, then until every migration is applied: workers and beat need the tables that the web
# start creates.
wait_for_services_and_migrations() {
  "$PYTHON" docker/wait_for_services.py --migrations
}
