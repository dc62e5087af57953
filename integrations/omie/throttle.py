"""The central Omie throttle: one state in Redis, shared by every web and worker process (docs/omie.md).

Per (app key, method): a token bucket, concurrency leases (1 for writes, 3 for reads), an error
budget and a pause/ban registry; per app key: a token bucket. Per (app key, method, id): a guard
that keeps the same id from being sent twice within Omie's REDUNDANT window.

Invariants, all enforced inside Lua scripts (atomic in Redis, clocked by Redis' TIME so hosts
with skewed clocks agree):
- calls of a method in any window of W seconds ≤ burst + rate × W (10 + 200/min by default, so at
  most 210 in any minute against Omie's 240);
- at most ``concurrency`` calls of a method are in flight; a lease whose holder died expires after
  ``lease_seconds`` (which must cover the HTTP timeouts, so a live holder never loses it);
- a paused method is not called before the pause ends, by anyone; pauses only ever grow;
- the error budget pauses a method when ``budget`` errors fell in the window; with at most
  ``read_concurrency`` calls in flight, Omie sees at most budget + 2 = 8 errors before we stop,
  below its 10-errors ban (this assumes Omie's undocumented counting window ≤ ours).
Nobody sleeps holding a lease: ``acquire`` either grants one or raises ``OmieNotNow``.

``acquire_in_turn``: the next callers in line (at most ``turn_waiters`` per method), holding no lease,
block on its release (BLPOP, longest waiter first, up to ``turn_wait_seconds``) instead of re-polling,
which left a busy write lease idle about a third of the time. Everyone else gets ``OmieNotNow`` at once.

``acquire_in_turn(place=LinePlace(ticket, score))``: strict first-come-first-served for a method. The
caller's ticket enters the method's line (a sorted set scored by ``score``, e.g. the order's trigger
time), and the lease is granted only to the head of the line. The first ``line_waiters`` tickets wait
in their process (each on its own wake-up list, pushed by ``finish``); the others get ``OmieNotNow``
(reason ``turn``) and their ticket stays, so a retry comes back to the same place. A ``wakeable``
place is *parked*: when a grant moves it into the waiting places, the grant's ``Lease.woken`` names
it and the lease holder's caller has its task called at once (its countdown is only a safety net);
an unwakeable one comes back by a countdown timed by place. Every ticket carries an expiry
(heartbeat while waiting, the countdown + a grace while away, the grace once called): a
holder that died is skipped once it expires, a late one re-enters at its old place. A called ticket
whose task has not arrived may be passed by the first waiting place once the free lease has idled
``line_patience_seconds``; it keeps its place. The line only decides *who* gets the lease: the
buckets, leases, pauses and guards are unchanged.
"""

from __future__ import annotations

import hashlib
import random
import secrets
import time
from dataclasses import dataclass
from datetime import datetime

import redis
from django.conf import settings
from django.utils import timezone

from common.metrics.counters import counter_add
from integrations.omie.calls import ALL_CALLS, WRITE_CALLS
from integrations.omie.errors import OmieNotNow, OmieTransientError
from integrations.omie.types import CallClass, Outcome

# The line of a method (acquire_in_turn with a place), L = {line (ticket → place), expiries (ticket →
# ms), parked (sent away, task not running), called (woken, task not arrived yet)}. Drops the tickets
# whose expiry passed; wakes (LPUSH on <wake prefix><ticket>) the head and the first ticket whose
# holder is here (the one that may pass a called head that is late).
_LINE_LIB = """
local function line_purge(L, now)
  local dead = redis.call('ZRANGEBYSCORE', L[2], '-inf', now)
  for _, d in ipairs(dead) do
    redis.call('ZREM', L[1], d)
    redis.call('ZREM', L[2], d)
    redis.call('SREM', L[3], d)
    redis.call('SREM', L[4], d)
  end
end
local function line_keep(key, ms)
  if redis.call('PTTL', key) < ms then redis.call('PEXPIRE', key, ms) end
end
local function line_push(prefix, ticket)
  local k = prefix .. ticket
  redis.call('LPUSH', k, '1')
  redis.call('LTRIM', k, 0, 0)
  redis.call('PEXPIRE', k, 5000)
end
local function line_wake(L, prefix)
  local first = redis.call('ZRANGE', L[1], 0, 9)
  for i, z in ipairs(first) do
    local here = redis.call('SISMEMBER', L[4], z) == 0
    if i == 1 or here then line_push(prefix, z) end
    if here then break end
  end
end
"""

# KEYS: pause, leases, method bucket, key bucket, guard, line, line expiries, parked, called, line stats
# ARGV: token, lease_ms, concurrency, method rate/ms, method capacity, key rate/ms, key capacity, has_guard,
#       ticket ('' = not in line), place, ticket_ms, wake prefix, line waiters, woken ticket ms, patience ms
_ACQUIRE = _LINE_LIB + """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local L = {KEYS[6], KEYS[7], KEYS[8], KEYS[9]}
local ticket = ARGV[9]
local rank = -1
if ticket ~= '' then
  -- (re)enter the line at our place, here now; the expiry is the heartbeat
  line_purge(L, now)
  redis.call('SREM', L[3], ticket)
  redis.call('SREM', L[4], ticket)
  redis.call('ZADD', L[1], ARGV[10], ticket)
  redis.call('ZADD', L[2], now + tonumber(ARGV[11]), ticket)
  line_keep(L[1], tonumber(ARGV[11]) + 60000)
  line_keep(L[2], tonumber(ARGV[11]) + 60000)
  rank = redis.call('ZRANK', L[1], ticket)
end
local function deny(reason, ms)
  if ticket == '' then return {0, reason, ms} end
  return {0, reason, ms, rank, tonumber(redis.call('HGET', KEYS[10], 'hold') or '0')}
end
local p = redis.call('HMGET', KEYS[1], 'until', 'reason')
if p[1] and tonumber(p[1]) > now then
  return deny(p[2] or 'paused', tonumber(p[1]) - now)
end
if ARGV[8] == '1' then
  local pt = redis.call('PTTL', KEYS[5])
  if pt > 0 then return deny('redundant', pt) end
end
if rank > 0 then
  -- not the head: wait, unless every place ahead was called and its task has not arrived for
  -- `patience` since the lease was given back (a late task must not idle Omie's one write)
  for _, z in ipairs(redis.call('ZRANGE', L[1], 0, rank - 1)) do
    if redis.call('SISMEMBER', L[4], z) == 0 then return deny('turn', 0) end
  end
  local idle = now - tonumber(redis.call('HGET', KEYS[10], 'freed') or '0')
  if idle < tonumber(ARGV[15]) then return deny('turn', tonumber(ARGV[15]) - idle) end
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[3]) then
  local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  return deny('concurrency', tonumber(first[2]) - now)
end
local function level(key, rate, cap)
  local v = redis.call('HMGET', key, 'tokens', 'ts')
  if not v[1] then return cap end
  return math.min(cap, tonumber(v[1]) + math.max(0, now - tonumber(v[2])) * rate)
end
local mrate, mcap = tonumber(ARGV[4]), tonumber(ARGV[5])
local krate, kcap = tonumber(ARGV[6]), tonumber(ARGV[7])
local mt = level(KEYS[3], mrate, mcap)
local kt = level(KEYS[4], krate, kcap)
if mt < 1 or kt < 1 then
  local wait = 0
  if mt < 1 then wait = (1 - mt) / mrate end
  if kt < 1 then wait = math.max(wait, (1 - kt) / krate) end
  return deny('rate', math.ceil(wait))
end
redis.call('HSET', KEYS[3], 'tokens', tostring(mt - 1), 'ts', now)
redis.call('PEXPIRE', KEYS[3], math.ceil(mcap / mrate) + 1000)
redis.call('HSET', KEYS[4], 'tokens', tostring(kt - 1), 'ts', now)
redis.call('PEXPIRE', KEYS[4], math.ceil(kcap / krate) + 1000)
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[2]) + 1000)
if ARGV[8] == '1' then redis.call('SET', KEYS[5], 'inflight', 'PX', ARGV[2]) end
if ticket ~= '' then
  -- served: leave the line (the next head may take a second lease at once, if there is one)
  redis.call('ZREM', L[1], ticket)
  redis.call('ZREM', L[2], ticket)
  if redis.call('ZCARD', KEYS[2]) < tonumber(ARGV[3]) then line_wake(L, ARGV[12]) end
  -- parked tickets that reached the waiting places: the caller has their tasks called now; each
  -- gets a short expiry, so one whose task never shows up is skipped after that at most
  local woken = {}
  for _, z in ipairs(redis.call('ZRANGE', L[1], 0, tonumber(ARGV[13]) - 1)) do
    if redis.call('SREM', L[3], z) == 1 then
      redis.call('SADD', L[4], z)
      redis.call('ZADD', L[2], now + tonumber(ARGV[14]), z)
      table.insert(woken, z)
    end
  end
  line_keep(L[4], tonumber(ARGV[14]) + 60000)
  return {1, 'ok', 0, 0, 0, woken}
end
return {1, 'ok', 0}
"""

# KEYS: line, line expiries, parked, called ; ARGV: ticket, place, ticket_ms, park ('1': its task is called when due)
_LINE_HOLD = _LINE_LIB + """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('SREM', KEYS[4], ARGV[1])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), ARGV[1])
if ARGV[4] == '1' then redis.call('SADD', KEYS[3], ARGV[1]) end
line_keep(KEYS[1], tonumber(ARGV[3]) + 60000)
line_keep(KEYS[2], tonumber(ARGV[3]) + 60000)
line_keep(KEYS[3], tonumber(ARGV[3]) + 60000)
return 1
"""

# KEYS: leases, errors, pause, guard, waiters, turns, line, line expiries, parked, called, line stats
# ARGV: token, count_error, error_window_ms, budget, error_pause_ms, pause_ms, pause_reason, guard_mode, guard_ms, nonce,
#       concurrency, wake prefix, lease_ms
_FINISH = _LINE_LIB + """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expiry = redis.call('ZSCORE', KEYS[1], ARGV[1])
if expiry then
  -- how long a call holds the lease (mean of the recent ones): the pace of the method's line
  local held = now - (tonumber(expiry) - tonumber(ARGV[13]))
  if held >= 0 then
    local avg = tonumber(redis.call('HGET', KEYS[11], 'hold') or '0')
    if avg > 0 then held = avg * 0.8 + held * 0.2 end
    redis.call('HSET', KEYS[11], 'hold', tostring(held), 'freed', now)
    redis.call('PEXPIRE', KEYS[11], 3600000)
  end
end
redis.call('ZREM', KEYS[1], ARGV[1])
local function pause(ms, reason)
  local cur = tonumber(redis.call('HGET', KEYS[3], 'until') or '0')
  local u = now + ms
  if u > cur then
    redis.call('HSET', KEYS[3], 'until', u, 'reason', reason, 'since', now)
    redis.call('PEXPIRE', KEYS[3], math.ceil(ms) + 60000)
  end
end
if tonumber(ARGV[6]) > 0 then pause(tonumber(ARGV[6]), ARGV[7]) end
local n = 0
if ARGV[2] == '1' then
  local window = tonumber(ARGV[3])
  redis.call('ZADD', KEYS[2], now, now .. ':' .. ARGV[10])
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - window)
  redis.call('PEXPIRE', KEYS[2], window + 1000)
  local budget = tonumber(ARGV[4])
  n = redis.call('ZCARD', KEYS[2])
  if n >= budget then
    -- until the window holds fewer than `budget` errors again, and never less than the pause
    local oldest = redis.call('ZRANGE', KEYS[2], n - budget, n - budget, 'WITHSCORES')
    pause(math.max(tonumber(ARGV[5]), tonumber(oldest[2]) + window - now), 'error_budget')
  end
end
if ARGV[8] == 'set' then
  redis.call('SET', KEYS[4], 'answered', 'PX', ARGV[9])
elseif ARGV[8] == 'del' then
  redis.call('DEL', KEYS[4])
end
redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', now)
if redis.call('ZCARD', KEYS[5]) > 0 then
  redis.call('LPUSH', KEYS[6], '1')
  redis.call('LTRIM', KEYS[6], 0, tonumber(ARGV[11]) - 1)
  redis.call('PEXPIRE', KEYS[6], 5000)
end
if redis.call('EXISTS', KEYS[7]) == 1 then
  local L = {KEYS[7], KEYS[8], KEYS[9], KEYS[10]}
  line_purge(L, now)
  line_wake(L, ARGV[12])
end
return n
"""

# KEYS: waiters ; ARGV: token, max waiters, wait_ms
_ENTER_LINE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]) + 1000)
return 1
"""

# KEYS: pause ; ARGV: pause_ms, reason
_PAUSE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local cur = tonumber(redis.call('HGET', KEYS[1], 'until') or '0')
local u = now + tonumber(ARGV[1])
if u > cur then
  redis.call('HSET', KEYS[1], 'until', u, 'reason', ARGV[2], 'since', now)
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]) + 60000)
  return u
end
return cur
"""

# BLPOP must return before the Redis client's socket timeout (5 s, get_redis) gives up on it.
_MAX_TURN_WAIT = 4.0
# A caller in line blocks at most this long at a time: it then re-checks (a head that died and
# expired is only noticed by looking) and renews its ticket.
_LINE_SLICE = 0.5
_MAX_LINE_WAIT = 10.0
# How early a ticket sent away comes back, as a share of the time its place needs to reach the front.
_LINE_EARLY = 0.75
# A wakeable ticket's safety countdown, as a multiple of the soonest its place can be reached.
_LINE_LATE = 2.0

PAUSE_REASON_LABELS = {
    "rate": "limite de requisições por minuto",
    "concurrency": "chamada do mesmo método em andamento",
    "redundant": "mesmo registro consultado há menos de 60 s",
    "rate_limited": "Omie respondeu 429",
    "banned": "Omie bloqueou o método (425)",
    "error_budget": "orçamento de erros esgotado",
    "concurrent": "Omie respondeu Client-1880/1100",
    "manual": "pausado pela operação",
    "turn": "aguardando a vez na fila (ordem de chegada)",
}


@dataclass(frozen=True)
class ThrottleLimits:
    rate_per_method_per_minute: float
    rate_per_key_per_minute: float
    burst_per_method: int
    burst_per_key: int
    write_concurrency: int
    read_concurrency: int
    lease_seconds: float
    lease_retry_seconds: float
    error_budget: int
    error_window_seconds: float
    error_pause_seconds: float
    rate_limited_pause_seconds: float
    ban_default_seconds: float
    redundant_seconds: float
    concurrent_retry_seconds: float
    turn_wait_seconds: float = 0.0
    turn_waiters: int = 1
    line_waiters: int = 3
    line_wait_seconds: float = 5.0
    line_grace_seconds: float = 2.0
    line_patience_seconds: float = 0.3

    @classmethod
    def from_settings(cls) -> ThrottleLimits:
        s = settings
        return cls(
            rate_per_method_per_minute=s.OMIE_RATE_PER_METHOD_PER_MINUTE,
            rate_per_key_per_minute=s.OMIE_RATE_PER_KEY_PER_MINUTE,
            burst_per_method=max(1, s.OMIE_RATE_BURST_PER_METHOD),
            burst_per_key=max(1, s.OMIE_RATE_BURST_PER_KEY),
            write_concurrency=s.OMIE_WRITE_CONCURRENCY,
            read_concurrency=s.OMIE_READ_CONCURRENCY,
            lease_seconds=s.OMIE_LEASE_SECONDS,
            lease_retry_seconds=s.OMIE_LEASE_RETRY_SECONDS,
            error_budget=s.OMIE_ERROR_BUDGET,
            error_window_seconds=s.OMIE_ERROR_WINDOW_SECONDS,
            error_pause_seconds=s.OMIE_ERROR_PAUSE_SECONDS,
            rate_limited_pause_seconds=s.OMIE_RATE_LIMITED_PAUSE_SECONDS,
            ban_default_seconds=s.OMIE_BAN_DEFAULT_SECONDS,
            redundant_seconds=s.OMIE_REDUNDANT_DEFAULT_SECONDS,
            concurrent_retry_seconds=s.OMIE_CONCURRENT_RETRY_SECONDS,
            turn_wait_seconds=s.OMIE_TURN_WAIT_SECONDS,
            turn_waiters=s.OMIE_TURN_WAITERS,
            line_waiters=s.OMIE_LINE_WAITERS,
            line_wait_seconds=s.OMIE_LINE_WAIT_SECONDS,
            line_grace_seconds=s.OMIE_LINE_GRACE_SECONDS,
            line_patience_seconds=s.OMIE_LINE_PATIENCE_SECONDS,
        )

    def concurrency(self, call: str) -> int:
        return self.write_concurrency if call in WRITE_CALLS else self.read_concurrency


@dataclass(frozen=True)
class Lease:
    call: str
    token: str
    guard_id: str | None
    # Parked tickets that reached the waiting places of the line with this grant: call their tasks.
    woken: tuple[str, ...] = ()


@dataclass(frozen=True)
class LinePlace:
    """A caller's place in a method's line: ``ticket`` names it across retries (the same ticket comes
    back to the same place), ``score`` orders the line (lowest first: e.g. the trigger time)."""

    ticket: str
    score: float
    # The caller has a parked ticket's task called when the line reaches it (``Lease.woken``): its
    # countdown is then only a safety net. Without it the countdown brings it back a little early.
    wakeable: bool = False


@dataclass(frozen=True)
class MethodState:
    call: str
    is_write: bool
    paused_until: datetime | None
    pause_reason: str
    pause_label: str
    errors_in_window: int
    error_budget: int
    leases_held: int
    concurrency: int
    tokens: float
    capacity: int


_clients: dict[str, redis.Redis] = {}


def get_redis() -> redis.Redis:
    url = settings.REDIS_URL
    if url not in _clients:
        _clients[url] = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5, health_check_interval=30)
    return _clients[url]


def app_key_id(app_key: str) -> str:
    """The app key as it appears in Redis keys: a digest, never the key itself."""
    return hashlib.sha256(app_key.encode()).hexdigest()[:16]


class OmieThrottle:
    def __init__(self, *, client: redis.Redis, app_key: str, limits: ThrottleLimits) -> None:
        self.redis = client
        self.limits = limits
        self.prefix = f"omie:throttle:{app_key_id(app_key)}"
        self._acquire = client.register_script(_ACQUIRE)
        self._finish = client.register_script(_FINISH)
        self._pause = client.register_script(_PAUSE)
        self._enter_line = client.register_script(_ENTER_LINE)
        self._line_hold = client.register_script(_LINE_HOLD)

    # keys ---------------------------------------------------------------------------------------
    def _k(self, call: str, part: str) -> str:
        return f"{self.prefix}:m:{call}:{part}"

    @property
    def _key_bucket(self) -> str:
        return f"{self.prefix}:key:bucket"

    def _guard_key(self, call: str, guard_id: str | None) -> str:
        return self._k(call, f"guard:{guard_id}") if guard_id else self._k(call, "guard:-")

    def _line_keys(self, call: str) -> list[str]:
        return [self._k(call, "line"), self._k(call, "line:exp"), self._k(call, "line:parked"), self._k(call, "line:called")]

    def line(self, call: str) -> list[str]:
        """The tickets waiting for ``call``, head first (expired ones included until someone looks)."""
        return [t.decode() for t in self.redis.zrange(self._k(call, "line"), 0, -1)]

    # operations ---------------------------------------------------------------------------------
    def _try(self, call: str, token: str, guard_id: str | None, place: LinePlace | None = None,
             ticket_seconds: float = 0.0) -> list:
        lim = self.limits
        try:
            return self._acquire(
                keys=[self._k(call, "pause"), self._k(call, "leases"), self._k(call, "bucket"), self._key_bucket,
                      self._guard_key(call, guard_id), *self._line_keys(call), self._k(call, "line:stats")],
                args=[token, int(lim.lease_seconds * 1000), lim.concurrency(call),
                      lim.rate_per_method_per_minute / 60000.0, lim.burst_per_method,
                      lim.rate_per_key_per_minute / 60000.0, lim.burst_per_key, "1" if guard_id else "0",
                      place.ticket if place else "", place.score if place else 0, int(ticket_seconds * 1000),
                      self._k(call, "wake:"), lim.line_waiters, int(lim.line_grace_seconds * 1000),
                      int(lim.line_patience_seconds * 1000)],
            )
        except redis.RedisError as exc:
            raise OmieTransientError("Controle de consumo do Omie indisponível (Redis)", call=call) from exc

    def acquire(self, call: str, *, guard_id: str | None = None) -> Lease:
        """A lease for one call of ``call`` now, or ``OmieNotNow`` saying when to come back."""
        token = secrets.token_hex(8)
        granted, reason, wait_ms = self._try(call, token, guard_id)
        if granted:
            return Lease(call=call, token=token, guard_id=guard_id)
        reason = reason.decode() if isinstance(reason, bytes) else str(reason)
        counter_add("blu_omie_throttle_denied", {"method": call, "reason": reason})
        raise OmieNotNow(
            f"{call}: aguardando ({PAUSE_REASON_LABELS.get(reason, reason)})",
            retry_after=self._retry_after(reason, wait_ms / 1000.0),
            reason=reason,
            call=call,
        )

    def acquire_in_turn(self, call: str, *, guard_id: str | None = None, wait: float | None = None,
                        place: LinePlace | None = None) -> Lease:
        """``acquire``, except that the next caller in line waits for a busy lease to be given back.

        Only a busy lease is waited for (pauses, the rate bucket and the REDUNDANT guard answer at
        once with their time), for at most ``wait`` seconds (default ``turn_wait_seconds``), and
        only by ``turn_waiters`` callers per method; the others get ``OmieNotNow`` as before.
        With a ``place``: first come, first served by the place's score (``_acquire_in_line``).
        """
        if place is not None:
            return self._acquire_in_line(call, guard_id=guard_id, place=place, wait=wait)
        wait = self.limits.turn_wait_seconds if wait is None else wait
        wait = min(wait, _MAX_TURN_WAIT)
        deadline = time.monotonic() + wait
        token: str | None = None
        try:
            while True:
                try:
                    return self.acquire(call, guard_id=guard_id)
                except OmieNotNow as exc:
                    remaining = deadline - time.monotonic()
                    if exc.reason != "concurrency" or remaining < 0.01:
                        raise
                    if token is None:
                        token = secrets.token_hex(8)
                        if not self._enter(call, token, remaining):
                            token = None
                            raise
                        continue  # a lease given back before we queued pushed no turn: look again first
                    waited_from = time.monotonic()
                    self.redis.blpop([self._k(call, "turns")], timeout=remaining)
                    counter_add("blu_omie_throttle_wait_seconds", {"method": call}, time.monotonic() - waited_from)
                    counter_add("blu_omie_throttle_waits", {"method": call})
        finally:
            if token is not None:
                try:
                    self.redis.zrem(self._k(call, "waiters"), token)
                except redis.RedisError:
                    pass  # the entry expires with its wait

    def _acquire_in_line(self, call: str, *, guard_id: str | None, place: LinePlace, wait: float | None) -> Lease:
        """The lease, granted only when ``place`` is at the head of the method's line.

        The first ``line_waiters`` tickets wait here (woken by ``finish`` on their own list, looking
        again every ``_LINE_SLICE`` s) for at most ``wait`` seconds; the head also sleeps out a short
        wait for a token. Anyone else, or whoever waited long enough, gets ``OmieNotNow`` and keeps
        the ticket for the retry's countdown + ``line_grace_seconds``: reason ``turn`` with a countdown
        by place (come back a little before reaching the waiting places), or the pause's own reason.
        """
        lim = self.limits
        wait = min(lim.line_wait_seconds if wait is None else wait, _MAX_LINE_WAIT)
        deadline = time.monotonic() + wait
        token = secrets.token_hex(8)
        wake = self._k(call, f"wake:{place.ticket}")
        heartbeat = _LINE_SLICE + lim.line_grace_seconds
        waited_from = time.monotonic()
        while True:
            answer = self._try(call, token, guard_id, place, heartbeat)
            granted, reason, wait_ms = answer[:3]
            rank, hold_ms = (int(answer[3]), answer[4]) if len(answer) > 3 else (0, 0)
            if granted:
                counter_add("blu_omie_throttle_wait_seconds", {"method": call}, time.monotonic() - waited_from)
                woken = tuple(t.decode() for t in answer[5]) if len(answer) > 5 else ()
                return Lease(call=call, token=token, guard_id=guard_id, woken=woken)
            reason = reason.decode() if isinstance(reason, bytes) else str(reason)
            remaining = deadline - time.monotonic()
            in_line = reason in ("turn", "concurrency")
            if in_line and rank < lim.line_waiters and remaining > 0.01:
                timeout = min(_LINE_SLICE, remaining)
                if reason == "turn" and wait_ms > 0:
                    timeout = min(timeout, wait_ms / 1000.0)  # a late head's patience runs out then
                self.redis.blpop([wake], timeout=max(0.01, timeout))
                continue
            if reason == "rate" and rank == 0 and wait_ms / 1000.0 < remaining:
                time.sleep(wait_ms / 1000.0)
                continue
            if in_line:
                reason, retry_after = "turn", self._line_retry_after(rank, float(hold_ms), place.wakeable)
            else:
                retry_after = self._retry_after(reason, wait_ms / 1000.0)
            self._hold(call, place, retry_after + lim.line_grace_seconds, park=in_line and place.wakeable)
            counter_add("blu_omie_throttle_denied", {"method": call, "reason": reason})
            raise OmieNotNow(
                f"{call}: aguardando ({PAUSE_REASON_LABELS.get(reason, reason)}; {rank + 1}º na fila)",
                retry_after=retry_after, reason=reason, call=call,
            )

    def _line_retry_after(self, rank: int, hold_ms: float, wakeable: bool) -> float:
        """When a ticket ``rank`` places from the head comes back by itself.

        Each turn takes at least as long as a call holds the lease (one write at a time), so
        ``ahead × hold`` is the soonest its place can reach the waiting ones. Unwakeable: a little
        before that — early, never late (timing it by the measured pace would feed the stalls of late
        tickets into later countdowns). Wakeable: its task is called when the place is reached; the
        countdown is the safety net for a lost call, well after that.
        """
        lim = self.limits
        per_turn = hold_ms / 1000.0 if hold_ms > 0 else lim.lease_retry_seconds
        ahead = max(1, rank - lim.line_waiters + 1)
        if wakeable:
            return ahead * per_turn * _LINE_LATE + lim.line_wait_seconds
        return max(0.05, ahead * per_turn * _LINE_EARLY)

    def _hold(self, call: str, place: LinePlace, seconds: float, *, park: bool = False) -> None:
        try:
            self._line_hold(keys=self._line_keys(call),
                            args=[place.ticket, place.score, int(seconds * 1000), "1" if park else "0"])
        except redis.RedisError:
            pass  # the ticket expires; the retry enters the line again at the same place

    def _enter(self, call: str, token: str, wait: float) -> bool:
        try:
            return bool(self._enter_line(keys=[self._k(call, "waiters")],
                                         args=[token, max(1, self.limits.turn_waiters), int(wait * 1000) + 1000]))
        except redis.RedisError:
            return False

    def _retry_after(self, reason: str, wait: float) -> float:
        if reason == "concurrency":
            # The earliest lease expiry is only a bound: leases are usually given back in one call.
            return min(wait, self.limits.lease_retry_seconds) * random.uniform(0.5, 1.5)
        if reason == "rate":
            # Spread the callers that wait for the same token over the next two intervals, so each
            # token finds a few of them instead of the whole herd at once.
            interval = 60.0 / self.limits.rate_per_method_per_minute
            return wait + random.uniform(0, 2 * interval)
        # Pauses: spread the herd a little after the end, never before it.
        return wait + random.uniform(0, min(5.0, wait * 0.1))

    def finish(self, lease: Lease, outcome: Outcome) -> int:
        """Gives the lease back and feeds the answer to the budget, pause and REDUNDANT registries.

        Returns the number of errors now in the method's window.
        """
        lim = self.limits
        pause_s, pause_reason = 0.0, ""
        if outcome.cls == CallClass.RATE_LIMITED:
            pause_s, pause_reason = max(lim.rate_limited_pause_seconds, outcome.wait_seconds or 0), "rate_limited"
        elif outcome.cls == CallClass.BANNED:
            pause_s, pause_reason = outcome.wait_seconds or lim.ban_default_seconds, "banned"
        elif outcome.cls == CallClass.CONCURRENT:
            pause_s, pause_reason = outcome.wait_seconds or lim.concurrent_retry_seconds, "concurrent"

        # Omie counts every answer that is not a success (not-found ones included) toward its ban.
        counts = outcome.cls != CallClass.OK and outcome.answered_by_omie
        guard_mode, guard_ms = "none", 0
        if lease.guard_id:
            if outcome.cls == CallClass.REDUNDANT:
                guard_mode, guard_ms = "set", int((outcome.wait_seconds or max(lim.redundant_seconds, 60)) * 1000)
            elif outcome.cls in {CallClass.RATE_LIMITED, CallClass.BANNED, CallClass.CONCURRENT} or not outcome.answered_by_omie:
                guard_mode = "del"  # Omie did not process it: the same id may go again
            elif lim.redundant_seconds > 0:
                guard_mode, guard_ms = "set", int(lim.redundant_seconds * 1000)
            else:
                guard_mode = "del"
        try:
            return int(self._finish(
                keys=[self._k(lease.call, "leases"), self._k(lease.call, "errors"), self._k(lease.call, "pause"),
                      self._guard_key(lease.call, lease.guard_id), self._k(lease.call, "waiters"), self._k(lease.call, "turns"),
                      *self._line_keys(lease.call), self._k(lease.call, "line:stats")],
                args=[lease.token, "1" if counts else "0", int(lim.error_window_seconds * 1000), lim.error_budget,
                      int(lim.error_pause_seconds * 1000), int(pause_s * 1000), pause_reason or "-", guard_mode, guard_ms,
                      secrets.token_hex(4), lim.concurrency(lease.call), self._k(lease.call, "wake:"),
                      int(lim.lease_seconds * 1000)],
            ))
        except redis.RedisError:
            # The lease expires by itself; losing one error count is the lesser evil here.
            return 0

    def pause(self, call: str, *, seconds: float, reason: str = "manual") -> datetime:
        """Pauses ``call`` for every process (never shortens a longer pause). Returns the end."""
        until_ms = int(self._pause(keys=[self._k(call, "pause")], args=[int(seconds * 1000), reason]))
        return datetime.fromtimestamp(until_ms / 1000, tz=timezone.get_current_timezone())

    def resume(self, call: str) -> None:
        """Lifts a pause (ops, after checking with Omie). The error window is cleared with it."""
        self.redis.delete(self._k(call, "pause"), self._k(call, "errors"))

    def state(self, calls: tuple[str, ...] = ALL_CALLS) -> list[MethodState]:
        lim = self.limits
        seconds, micros = self.redis.time()
        now_ms = seconds * 1000 + micros // 1000
        pipe = self.redis.pipeline(transaction=False)
        for call in calls:
            pipe.hmget(self._k(call, "pause"), "until", "reason")
            pipe.zcount(self._k(call, "leases"), now_ms, "+inf")
            pipe.zcount(self._k(call, "errors"), now_ms - int(lim.error_window_seconds * 1000), "+inf")
            pipe.hmget(self._k(call, "bucket"), "tokens", "ts")
        results = pipe.execute()
        rate_ms = lim.rate_per_method_per_minute / 60000.0
        states = []
        for i, call in enumerate(calls):
            (until, reason), leases, errors, (tokens, ts) = results[i * 4 : i * 4 + 4]
            until_ms = int(until) if until else 0
            paused = until_ms > now_ms
            reason_s = reason.decode() if paused and reason else ""
            level = float(lim.burst_per_method)
            if tokens is not None:
                level = min(level, float(tokens) + max(0, now_ms - int(float(ts))) * rate_ms)
            states.append(MethodState(
                call=call,
                is_write=call in WRITE_CALLS,
                paused_until=datetime.fromtimestamp(until_ms / 1000, tz=timezone.get_current_timezone()) if paused else None,
                pause_reason=reason_s,
                pause_label=PAUSE_REASON_LABELS.get(reason_s, reason_s),
                errors_in_window=int(errors),
                error_budget=lim.error_budget,
                leases_held=int(leases),
                concurrency=lim.concurrency(call),
                tokens=round(level, 2),
                capacity=lim.burst_per_method,
            ))
        return states


def get_throttle(*, app_key: str | None = None, limits: ThrottleLimits | None = None) -> OmieThrottle:
    limits = limits or ThrottleLimits.from_settings()
    return OmieThrottle(client=get_redis(), app_key=app_key or settings.OMIE_APP_KEY, limits=limits)
