"""The fake Pagar.me (sandbox): a JWKS with its own RSA key pair, and the charges/orders API."""
