"""Store tests use the ``database_url`` and ``engine`` fixtures of tests/conftest.py."""
