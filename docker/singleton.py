"""Runs a command only while this process holds a Redis lock: the beat-singleton rule, enforced.

    python docker/singleton.py --name beat -- celery -A config beat ...

Two Celery Beats fire every periodic task twice, so the second one (a scaled service, a second host,
a forgotten container) must not schedule. This wrapper takes ``blu:singleton:<name>`` in the
project's Redis (SET NX with a TTL) before starting the command, renews it every TTL/3 while the
command runs and deletes it when the command ends. A process that finds the lock taken waits as a
standby and starts the command once the lock is free: released at a clean stop, or expired
SINGLETON_TTL_SECONDS (default 60) after the holder died.

If the lock is found in someone else's hands while the command runs (Redis lost it, or this
process was frozen past the TTL), the command is stopped: a beat that cannot prove it is the only
one does not keep scheduling. Redis being unreachable is not such proof; the command keeps running,
since without Redis (the broker) no beat can send anything anyway.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import threading
import uuid
from pathlib import Path
from types import FrameType

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.django.production")

# Renew when the lock is still ours; take it again when it expired and nobody else took it.
_RENEW = """
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if not holder then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT, signal.SIGHUP)


def log(message: str) -> None:
    print(f"[singleton] {message}", file=sys.stderr, flush=True)


def lock_key(name: str) -> str:
    return f"blu:singleton:{name}"


class Singleton:
    def __init__(self, *, name: str, command: list[str], ttl_seconds: float, redis_url: str) -> None:
        import redis

        self.key = lock_key(name)
        self.command = command
        self.ttl_ms = int(ttl_seconds * 1000)
        self.interval = max(ttl_seconds / 3, 0.2)
        self.token = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.client = redis.Redis.from_url(redis_url, socket_connect_timeout=3, socket_timeout=3)
        self.child: subprocess.Popen[bytes] | None = None
        self.stopping = threading.Event()

    def on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if self.child is not None and self.child.poll() is None:
            self.child.send_signal(signum)
        else:
            self.stopping.set()

    def acquire(self) -> bool:
        """Waits for the lock; False when asked to stop while waiting."""
        import redis

        last_holder: bytes | None = None
        while not self.stopping.is_set():
            try:
                if self.client.set(self.key, self.token, nx=True, px=self.ttl_ms):
                    log(f"lock {self.key} taken ({self.token})")
                    return True
                holder = self.client.get(self.key)
                if holder != last_holder:
                    log(f"lock {self.key} held by {holder.decode() if holder else '?'}: waiting as a standby")
                    last_holder = holder
            except redis.RedisError as exc:
                log(f"Redis unavailable while waiting for the lock ({type(exc).__name__})")
            self.stopping.wait(self.interval)
        return False

    def renew(self) -> bool:
        """False only when another process holds the lock."""
        import redis

        try:
            return bool(self.client.eval(_RENEW, 1, self.key, self.token, self.ttl_ms))
        except redis.RedisError as exc:
            log(f"could not renew {self.key} ({type(exc).__name__}); still running")
            return True

    def release(self) -> None:
        import redis

        try:
            self.client.eval(_RELEASE, 1, self.key, self.token)
        except redis.RedisError as exc:
            log(f"could not release {self.key} ({type(exc).__name__}); it expires by itself")

    def run(self) -> int:
        for signum in _FORWARDED:
            signal.signal(signum, self.on_signal)
        if not self.acquire():
            return 0
        try:
            self.child = subprocess.Popen(self.command)
            while True:
                try:
                    code = self.child.wait(timeout=self.interval)
                    break
                except subprocess.TimeoutExpired:
                    pass
                if not self.renew():
                    log(f"lock {self.key} is held by another process: stopping the command")
                    self.child.terminate()
                    try:
                        self.child.wait(30)
                    except subprocess.TimeoutExpired:
                        self.child.kill()
                        self.child.wait()
                    return 1
            return code if code >= 0 else 128 - code
        finally:
            self.release()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", required=True, help="what is singular (the lock is blu:singleton:<name>)")
    parser.add_argument("--ttl", type=float, default=float(os.environ.get("SINGLETON_TTL_SECONDS", "60")))
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- command and arguments")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given")

    from django.conf import settings  # the same Redis the project uses (settings only, no app loading)

    return Singleton(name=args.name, command=command, ttl_seconds=args.ttl, redis_url=settings.REDIS_URL).run()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
