"""The built-in rules: one module per documented Platform API change (spec §14, R01–R54).

``all/`` holds rules that concern every version step, ``v1_1/`` the 1.0 → 1.1 step, ``v2_0/`` the
1.1 → 2.0 step and ``v3_0/`` the 2.0 → 3.0 step. :func:`layer_migrate.rulebook.load_rulebook`
imports every module of this package by name (``pkgutil``), and checks each rule as it loads;
``README.md`` in this folder lists the catalogue rules that are n/a.
"""
