"""The sandbox, outside the product (docs/contract.md#sandbox): the fake Omie, Bubble, BrasilAPI and
Pagar.me mounted under /sandbox/, their demo data, the demo flow of `make run` and their management
commands. Installed only when SANDBOX is on and in the tests; the production image does not contain
this package (.dockerignore) and no production module imports it (.importlinter)."""
