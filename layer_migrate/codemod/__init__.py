"""The codemod: rewrite Python code that calls the Layer Platform API from 1.x to 2.0/3.0.

``layer-migrate codemod PATH...`` (see :mod:`.cli`). Library use::

    from layer_migrate.codemod import Options, build_index, rewrite_source
    out = rewrite_source(source_bytes, Options(build_index("3.0")))
    out.code, out.events, out.markers

Pipeline: :mod:`.facts_table` (rule facts → lookup tables) → :mod:`.collect` (find HTTP calls and
where their bodies are built) → :mod:`.transform` (libcst rewrite; mixins :mod:`.payloads`,
:mod:`.block_calls`, :mod:`.reads`) → :mod:`.api` (pre-filter, pruning, imports, re-parse) →
:mod:`.runner` (files, processes, atomic writes) → :mod:`.report`; :mod:`.cli` on top.
"""

from .api import Options, Outcome, rewrite_source
from .facts_table import build_index

__all__ = ["Options", "Outcome", "build_index", "rewrite_source"]
