"""``api.module_bytes`` (reuses the text of untouched statements) equals libcst's ``Module.bytes``."""

from pathlib import Path

import libcst as cst
import pytest

from layer_migrate.codemod.api import module_bytes, prune

ROOT = Path(__file__).resolve().parents[2]

ODD = [b"", b"\n", b"# c", b"# c\n\n", b"x = 1", b"x = 1\r\ny = 2\r\n", b"\xef\xbb\xbfx = 1\n",
       "# -*- coding: latin-1 -*-\nx = 'é'\n".encode("latin-1"), b"if x:\n\ty = 1\n  # trailing\n",
       b"x = 1\n\x0c\ny = 2\n", b"class A:\n    x = 1\n# end\n\n", b'"""Doc."""\n\n\ndef f():\n    pass\n# tail']


@pytest.mark.parametrize("code", ODD + [p.read_bytes() for p in sorted((ROOT / "samples" / "legacy_app").rglob("*.py"))])
def test_same_as_libcst(code):
    module = cst.parse_module(code)
    codes: dict = {}
    prune(module, codes)
    assert module_bytes(module, codes) == module.bytes
    assert module_bytes(module, {}) == module.bytes
    # statements that are not the cached objects are generated afresh
    changed = module.with_changes(body=[s.deep_clone() for s in module.body])
    assert module_bytes(changed, codes) == module.bytes
