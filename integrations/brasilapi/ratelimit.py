"""The central BrasilAPI rate limit, shared by every process through Redis (docs/contract.md#sync step 2).

GCRA with no burst: a call is allowed when the key's "theoretical arrival time" is not in the
future, and then pushes it ``1 / rate`` seconds ahead. The check-and-set is one Lua script, so it
is atomic across processes, and it reads Redis' own clock, so workers with skewed clocks agree.
A caller that is refused gets the wait instead of sleeping (``BrasilApiNotNow``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import redis
from django.conf import settings

# Returns {allowed (0/1), wait in µs, Redis time in µs}.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat > now then
  return {0, tat - now, now}
end
redis.call('SET', KEYS[1], now + tonumber(ARGV[1]), 'PX', ARGV[2])
return {1, 0, now}
"""

# Pushes the next allowed time to at least now + ARGV[1] µs (after a 429: everyone holds off).
_PAUSE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local until_ = now + tonumber(ARGV[1])
if until_ > tat then
  redis.call('SET', KEYS[1], until_, 'PX', ARGV[2])
end
return until_ - now
"""


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: float  # seconds; 0 when allowed
    at: float  # Redis time of the decision, seconds since the epoch


class RateLimiter:
    def __init__(self, client: redis.Redis, key: str, rate_per_second: float) -> None:
        if rate_per_second <= 0:
            raise ValueError("rate_per_second must be positive")
        self.client = client
        self.key = key
        self.interval_us = int(1_000_000 / rate_per_second)
        self._acquire = client.register_script(_ACQUIRE)
        self._pause = client.register_script(_PAUSE)

    def acquire(self) -> Decision:
        allowed, wait_us, now_us = self._acquire(keys=[self.key], args=[self.interval_us, self._ttl_ms(self.interval_us)])
        return Decision(allowed=bool(allowed), retry_after=int(wait_us) / 1_000_000, at=int(now_us) / 1_000_000)

    def pause(self, seconds: float) -> None:
        wait_us = int(seconds * 1_000_000)
        self._pause(keys=[self.key], args=[wait_us, self._ttl_ms(wait_us)])

    @staticmethod
    def _ttl_ms(wait_us: int) -> int:
        return max(1000, wait_us // 1000 + 1000)


@lru_cache(maxsize=4)
def redis_for(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)


def get_brasilapi_limiter() -> RateLimiter:
    return RateLimiter(redis_for(settings.REDIS_URL), "blu:throttle:brasilapi", settings.BRASILAPI_RATE_PER_SECOND)
