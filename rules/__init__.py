"""The rulebook: one module per documented Platform API change (spec §14, R01–R54).

``all/`` holds rules that concern every version step, ``v1_1/`` the 1.0 → 1.1 step, ``v2_0/`` the
1.1 → 2.0 step and ``v3_0/`` the 2.0 → 3.0 step. Modules are loaded by path by
:func:`layer_migrate.rulebook.load_rulebook`; see ``rules/README.md`` for the rules that are n/a.
"""
