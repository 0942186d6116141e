"""Installed by ``layer-migrate run`` on a private PYTHONPATH: activate layer-migrate, then run the
program's own ``sitecustomize`` (if any) exactly as Python would have without us.

Kept tiny and dependency-free: everything else is in ``layer_migrate.inprocess.boot``.
"""


def _layer_migrate_boot() -> None:
    import os
    import sys

    here = os.path.dirname(os.path.abspath(__file__))
    # Leave sys.path as the program would have it without us.
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    try:
        import layer_migrate.inprocess.boot as boot
    except ImportError:
        where = os.environ.get("LAYER_MIGRATE_HOME")
        if not where:
            raise
        sys.path.append(where)  # layer-migrate lives in another environment: lowest priority
        import layer_migrate.inprocess.boot as boot
    boot.boot_from_env()
    boot.chain_sitecustomize(__name__)


_layer_migrate_boot()
del _layer_migrate_boot
