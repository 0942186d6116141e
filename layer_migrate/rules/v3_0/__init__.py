"""Rules of step v3_0 (see rules/__init__.py)."""
