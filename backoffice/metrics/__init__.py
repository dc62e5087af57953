"""Prometheus metrics of the whole system (docs/observability.md).

- ``snapshot``: the business gauges, computed from PostgreSQL by a beat task every 30 s and kept in Redis;
- ``collectors``: what a scrape reads live from Redis (queues, workers, beat, the Omie throttle, counters);
- ``view``: the protected ``/metrics`` endpoint.

Here, in the backoffice, because these read every app (like the admin dashboard) and nothing imports backoffice.
"""
