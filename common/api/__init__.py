"""The HTTP API's plumbing, in one place below every domain app (docs/architecture.md):

- ``auth``: JWT authentication with revocable service tokens, the service group, the token serializers;
  ``auth_views``: the throttled token endpoints (``/v1/auth/token/…``); ``tokens``: issuing and revoking
  service tokens (``manage.py issue_service_token``, the admin's "Revogar");
- ``throttles``: the atomic rate limits (``auth`` per client address, ``token`` per token);
- ``idempotency`` (the view mixin) and ``idempotency_records`` (the storage rules): ``Idempotency-Key``;
- ``views``: the base of every endpoint under /v1/ (strict input, the service group's permission,
  idempotency, a hook for logging refusals); the error envelope is ``common.exceptions``;
- ``models``: ``ServiceToken`` and ``IdempotencyRecord`` (app label ``api``), ``admin``: their lists.

Installed as its own app (``common.api``, label ``api``) so its models have a home that imports no domain app.
"""
