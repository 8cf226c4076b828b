"""Test support: Meta's OpenAPI schema validators and a fake Meta Graph API server.

Shipped inside the package (not under ``tests/``) so benchmarks, the lead's API tests and a
standalone ``python -m xobito.testing.fake_graph`` can all use the same fake.
"""
