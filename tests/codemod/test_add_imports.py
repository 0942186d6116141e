"""``api.add_imports`` (statement-list version) gives exactly what libcst's AddImportsVisitor gives."""

import itertools

import libcst as cst
import pytest

from layer_migrate.codemod.api import add_imports, add_imports_with_visitor

HEADS = [
    "",
    "x = 1\n",
    '"""Doc."""\n',
    '"""Doc."""\nx = 1\n',
    '"""Doc."""\n\n# comment\nx = 1\n',
    '"a" "b"\nx = 1\n',
    "__strict__ = True\nimport os\n\nx = 1\n",
    "# header comment\n\nimport os\nx = 1\n",
    "import os\n# about x\nx = 1\n",
    "import os\n\n\n# about x\nx = 1\n",
    "from __future__ import annotations\n\nimport json\n\nimport requests\n",
    "from urllib.parse import urlencode\nimport requests\n\nURL = 1\n",
    "from urllib.parse import (\n    urlencode,\n    urljoin,\n)\nimport requests\n",
    "from urllib.parse import urlencode as ue\nx = 1\n",
    "from urllib.parse import *\nx = 1\n",
    "import urllib.parse\nx = 1\n",
    "import urllib.parse as up\nx = 1\n",
    "import urllib\nx = 1\n",
    "from . import client\nfrom .urllib.parse import x\ny = 2\n",
    "import os; import sys\nx = 1\n",
    "import os\nx = 1\nfrom urllib.parse import urlencode\n",
    "import os\ntry:\n    import ujson as json\nexcept ImportError:\n    import json\nfrom urllib.parse import urljoin\n",
    "import os\r\nfrom urllib.parse import urljoin\r\n\r\nx = 1\r\n",
    "if True:\n\tx = 1\nimport os\n",
    "from layer_migrate.identity import other\nfrom urllib.parse import urljoin\nfrom urllib.parse import urlsplit\n",
    "def f():\n    pass\nimport os\n",
]

NEEDS = [
    ("urllib.parse", "quote"),
    ("urllib.parse", None),
    ("layer_migrate.identity", "identity_id"),
]


@pytest.mark.parametrize("head", HEADS)
def test_same_as_libcst_visitor(head):
    module = cst.parse_module(head + "\n\ndef later():\n    return 1\n")
    for n in range(1, len(NEEDS) + 1):
        for needed in itertools.combinations(NEEDS, n):
            needed = sorted(needed, key=lambda x: (x[0], x[1] or ""))
            assert add_imports(module, needed).code == add_imports_with_visitor(module, needed).code, needed
