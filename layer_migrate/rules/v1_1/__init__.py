"""Rules of step v1_1 (see rules/__init__.py)."""
