"""``python -m layer_migrate`` = the ``layer-migrate`` command."""

from .cli import main

if __name__ == "__main__":
    main()
