"""Rules of step all (see rules/__init__.py)."""
