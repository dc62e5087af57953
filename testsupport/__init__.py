"""What the tests, the benches and the scripts share: processes and ports, the fake systems' test
handles and fixtures. Production code never imports it (backoffice/tests/test_structure.py)."""
