"""A Layer file the codemod has nothing to do in comes back byte for byte.

libcst does not round-trip every layout (``except X :`` loses its space when code is generated),
so "nothing to rewrite" must mean "return the input", not "return what libcst prints".
"""

from layer_migrate.codemod.api import Options, rewrite_source
from layer_migrate.codemod.facts_table import build_index

SOURCE = b'''import requests

LAYER = "https://api.layer.com/apps/x"


def fetch(cid):
    try:
        return requests.get(LAYER + "/conversations/" + cid).json()
    except (KeyError, ValueError) :
        return None
'''


def test_file_with_nothing_to_rewrite_is_returned_unchanged():
    out = rewrite_source(SOURCE, Options(index=build_index("3.0")))
    assert out.events == []
    assert out.changed is False
    assert out.code == SOURCE
