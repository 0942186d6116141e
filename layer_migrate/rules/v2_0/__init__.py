"""Rules of step v2_0 (see rules/__init__.py)."""
