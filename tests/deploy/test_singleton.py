"""docker/singleton.py: only one holder of the beat lock runs its command; the others wait as standbys."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.deploy.files import ROOT
from testsupport.processes import subprocess_env, wait_for

# Stands in for beat: says it runs (a file), exits 0 on SIGTERM like celery beat does.
CHILD = (
    "import pathlib, signal, sys, time\n"
    "signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))\n"
    "pathlib.Path(sys.argv[1]).write_text('running')\n"
    "while True: time.sleep(0.05)\n"
)
NAME = "test-singleton"
KEY = f"blu:singleton:{NAME}"


class Holder:
    def __init__(self, proc: subprocess.Popen[bytes], marker: Path, log: Path) -> None:
        self.proc, self.marker, self.log = proc, marker, log

    def running(self) -> bool:
        return self.marker.exists()

    def output(self) -> str:
        return self.log.read_text()


@pytest.fixture
def start(db: None, tmp_path: Path) -> Iterator[Callable[..., Holder]]:
    started: list[subprocess.Popen[bytes]] = []

    def run(label: str, ttl: float = 3.0) -> Holder:
        marker, log = tmp_path / f"{label}.running", tmp_path / f"{label}.log"
        child = [sys.executable, "-c", CHILD, str(marker)]
        command = [sys.executable, "docker/singleton.py", "--name", NAME, "--ttl", str(ttl), "--", *child]
        proc = subprocess.Popen(command, cwd=ROOT, env=subprocess_env(), stderr=log.open("wb"), start_new_session=True)
        started.append(proc)
        return Holder(proc, marker, log)

    yield run
    for proc in started:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def test_a_second_process_waits_and_takes_over_when_the_first_stops_cleanly(start, redis_client):
    first = start("first")
    wait_for(first.running, timeout=20, message="the first process never ran its command")
    second = start("second")
    wait_for(lambda: "waiting as a standby" in second.output(), timeout=20)
    # Past several of the standby's tries (every TTL/3 = 1 s): it must still be waiting.
    with pytest.raises(AssertionError):
        wait_for(second.running, timeout=3)
    assert f":{first.proc.pid}:" in redis_client.get(KEY).decode()

    os.kill(first.proc.pid, signal.SIGTERM)  # what `docker stop` sends to the container's process
    assert first.proc.wait(15) == 0
    wait_for(second.running, timeout=10, message="the standby did not take over after a clean stop")
    assert f":{second.proc.pid}:" in redis_client.get(KEY).decode()


def test_a_dead_holders_lock_expires_and_the_standby_takes_over(start, redis_client):
    first = start("first", ttl=2.0)
    wait_for(first.running, timeout=20)
    second = start("second", ttl=2.0)
    wait_for(lambda: "waiting as a standby" in second.output(), timeout=20)
    os.killpg(first.proc.pid, signal.SIGKILL)  # no release: the lock must expire by itself
    first.proc.wait(10)
    assert redis_client.get(KEY) is not None
    wait_for(second.running, timeout=15, message="the standby did not take over after the lock expired")


def test_the_command_is_stopped_when_someone_else_holds_the_lock(start, redis_client):
    first = start("first", ttl=1.5)
    wait_for(first.running, timeout=20)
    redis_client.set(KEY, "another-host:1:abcdef01", px=60_000)  # e.g. Redis lost the key and another beat took it
    assert first.proc.wait(15) == 1
    assert "held by another process: stopping the command" in first.output()
    assert redis_client.get(KEY) == b"another-host:1:abcdef01"  # not released: it is not ours


def test_the_lock_is_released_when_the_command_ends(db, redis_client):
    result = subprocess.run(
        [sys.executable, "docker/singleton.py", "--name", NAME, "--", sys.executable, "-c", "raise SystemExit(3)"],
        cwd=ROOT, env=subprocess_env(), capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 3  # the command's own exit code
    assert redis_client.get(KEY) is None
