"""``codegen.generate`` (reuses the recorded text of untouched statements) equals libcst's ``Module.bytes``."""

from pathlib import Path

import libcst as cst
import pytest

from layer_migrate.codemod.api import prune
from layer_migrate.codemod.codegen import _reuse, _Verbatim, constant, generate, record

ROOT = Path(__file__).resolve().parents[2]

ODD = [b"", b"\n", b"# c", b"# c\n\n", b"x = 1", b"x = 1\r\ny = 2\r\n", b"\xef\xbb\xbfx = 1\n",
       "# -*- coding: latin-1 -*-\nx = 'é'\n".encode("latin-1"), b"if x:\n\ty = 1\n  # trailing\n",
       b"x = 1\n\x0c\ny = 2\n", b"class A:\n    x = 1\n# end\n\n", b'"""Doc."""\n\n\ndef f():\n    pass\n# tail']

#: nested blocks of every kind, mixed indentation, elif chains, comments in block footers
NESTED = b'''\
import os


class A:
  def f(self, x):
      if x == 1:
          y = 1
      elif x == 2:
          y = 2  # two
      elif x == 3:
          y = 3
      else:
          y = 4
          # footer comment
      for i in range(1):
          pass
      else:
          z = 1
      while False:
          z = 1
      try:
          z = 1
      except ValueError:
          z = 1
      finally:
          z = 1
      with open(os.devnull) as fh:
          z = 1; w = 1
      if x: z = 1
      return 1


def g():
\tif True:
\t\treturn 1
'''

SOURCES = ODD + [NESTED] + [p.read_bytes() for p in sorted((ROOT / "samples" / "legacy_app").rglob("*.py"))]


class _BumpIntegers(cst.CSTTransformer):
    """``1`` → ``2`` in statements matching ``where``; everything else comes back as the
    original objects (as the codemod's rewriter does), so their recorded text is reused."""

    def __init__(self, where: str) -> None:
        super().__init__()
        self.where = where

    def leave_Integer(self, original_node, updated_node):
        return updated_node.with_changes(value="2") if updated_node.value == "1" else updated_node

    def on_visit(self, node):
        if isinstance(node, cst.SimpleStatementLine):
            return self.where in cst.Module([]).code_for_node(node)
        return super().on_visit(node)

    def on_leave(self, original_node, updated_node):
        result = super().on_leave(original_node, updated_node)
        return original_node if result is updated_node and result.deep_equals(original_node) else result


@pytest.mark.parametrize("code", SOURCES)
def test_same_as_libcst(code):
    module = cst.parse_module(code)
    spans = record(module)
    prune(module, spans)
    assert generate(module, spans) == module.bytes
    assert generate(module, None) == module.bytes
    # statements that are not the recorded objects are generated afresh
    changed = module.with_changes(body=[s.deep_clone() for s in module.body])
    assert generate(changed, spans) == module.bytes


@pytest.mark.parametrize("where", ["y = 2", "y = 3", "y = 4", "z = 1; w", "if x: z", "return 1", "z = 1", "x = 1"])
def test_partly_changed_tree(where):
    """One statement deep inside blocks changed: the output equals a fresh generation, and the
    untouched statements were really taken from the recording (not regenerated)."""
    for code in (NESTED, *ODD):
        module = cst.parse_module(code)
        spans = record(module)
        new = module.visit(_BumpIntegers(where))
        assert generate(new, spans) == new.bytes


def test_untouched_statements_reuse_the_recording():
    module = cst.parse_module(NESTED)
    spans = record(module)
    new = module.visit(_BumpIntegers("y = 3"))
    reused = _reuse(new, spans, ())
    assert isinstance(reused.body[0], _Verbatim)  # import os
    assert not isinstance(reused.body[1], _Verbatim)  # class A: changed inside
    method = reused.body[1].body.body[0].body.body
    # the if/elif chain holds `y = 3`; `for … range(1)` has a 1 in its header; while/try/with do not
    assert [type(s).__name__ for s in method][:5] == ["If", "For", "_Verbatim", "_Verbatim", "_Verbatim"]
    assert isinstance(reused.body[2], _Verbatim)  # def g


def test_elif_moved_out_is_not_reused_as_elif():
    """An ``elif`` statement placed where it is an ``if`` (a different context) is generated afresh."""
    module = cst.parse_module(b"if a:\n    x = 1\nelif b:\n    x = 2\n")
    spans = record(module)
    elif_ = module.body[0].orelse
    moved = module.with_changes(body=[*module.body, elif_.with_changes(leading_lines=[])])
    moved = moved.with_changes(body=[module.body[0], elif_])
    assert generate(moved, spans) == moved.bytes
    assert b"\nif b:" in generate(moved, spans)


def test_statement_moved_to_another_depth_is_not_reused():
    module = cst.parse_module(b"def f():\n    x = 1\n")
    spans = record(module)
    inner = module.body[0].body.body[0]
    moved = module.with_changes(body=[*module.body, inner])
    assert generate(moved, spans) == moved.bytes == b"def f():\n    x = 1\nx = 1\n"


def test_shared_statement_text_follows_each_modules_style():
    """A statement shared by many files (:func:`codegen.constant`, the generated helpers) is
    generated once per indentation/newline style, and each file gets its own style."""
    helper = cst.parse_module("def _h(x):\n    if x:\n        return x\n").body[0]
    constant(helper)
    for code in (b"def f():\n\tpass\n", b"def f():\n    pass\n", b"def f():\r\n  pass\r\n", b"x = 1\n"):
        module = cst.parse_module(code)
        spans = record(module)
        new = module.with_changes(body=[*module.body, helper])
        assert generate(new, spans) == new.bytes
        assert generate(new, spans) == generate(new, spans)


@pytest.mark.parametrize("line_length", [None, 88, 40])
def test_rewrite_output_equals_a_fresh_generation(monkeypatch, line_length):
    """Through the whole rewrite (changed statements, wrapped ones whose text the wrap check
    produced, generated helpers, imports), the reused text equals generating the tree afresh."""
    from layer_migrate.codemod import Options, api, build_index, codegen, rewrite_source
    from layer_migrate.identity import BotDirectory

    checked = []

    def generate_and_compare(module, spans):
        out = codegen.generate(module, spans)
        assert out == module.bytes
        checked.append(1)
        return out

    monkeypatch.setattr(api, "generate", generate_and_compare)
    options = Options(index=build_index("3.0"), bots=BotDirectory({"Support": "support-bot"}), line_length=line_length)
    for path in sorted((ROOT / "samples" / "legacy_app").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        for variant in (text, text.replace("\n", "\r\n"), text.replace("    ", "\t")):
            rewrite_source(variant.encode(), options)
    assert checked


MATCH = b"""def f(x):
    match x:
        case 1:
            y = 1
            z = 3
        case [a, b]:
            y = 5
    try:
        pass
    except* ValueError:
        q = 1
    return 7
"""


@pytest.mark.parametrize("where", ["y = 1", "y = 5", "q = 1", "return"])
def test_match_and_except_star_blocks(where):
    """Blocks that indent their own way (``match`` cases) are generated right: a statement whose
    recorded context differs is generated afresh, never pasted at the wrong indentation."""
    module = cst.parse_module(MATCH)
    spans = record(module)
    new = module.visit(_BumpIntegers(where))
    assert generate(new, spans) == new.bytes
