"""Guards for the codemod's performance work (issue 14): behaviour stays, waste does not return."""

import gc
from pathlib import Path

import libcst as cst
import pytest

from layer_migrate.codemod import Options, build_index, rewrite_source
from layer_migrate.identity import BotDirectory

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = sorted((ROOT / "samples" / "legacy_app").rglob("*.py"))


@pytest.fixture(scope="module")
def options():
    return Options(index=build_index("3.0"), bots=BotDirectory({"Support": "support-bot"}))


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_no_reference_cycles_per_file(path, options):
    """A file's tree is freed by reference counting when its rewrite returns: a cycle through
    the rewriter (or a class defined per call) would keep every node alive until the garbage
    collector runs — thousands of objects a file, and the collector's time."""
    code = path.read_bytes()
    rewrite_source(code, options)  # warm caches
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    try:
        out = rewrite_source(code, options)
        garbage = gc.collect()
    finally:
        if was:
            gc.enable()
    assert garbage < 100, f"{garbage} objects in reference cycles after one file ({out.changed=})"


def _simple_statements(node, depth=0):
    """(statement, block depth) for every simple statement line under ``node``."""
    if isinstance(node, cst.SimpleStatementLine):
        yield node, depth
        return
    inner = depth + isinstance(node, cst.IndentedBlock)
    for name in getattr(type(node), "__dataclass_fields__", {}):
        value = getattr(node, name)
        for child in value if isinstance(value, (list, tuple)) else (value,):
            if isinstance(child, cst.CSTNode):
                yield from _simple_statements(child, inner)


WRAP_SOURCES = [p.read_text(encoding="utf-8") for p in SAMPLES] + [
    "def f():\n    x = call(a,\n             b)  # c\n    # lead\n\n    y = [\n        1, 2,\n    ]\n",
    "class A:\n  def f(self):\n      return {'k': 'v' * 80}\n",
    "if x:\n\tz = 'x\\\n' + 'y'\n\t# c\n\tw = 1\n",
    "def g():\n    s = '''a\nvery long line inside a triple-quoted string that goes on and on and on and on'''\n",
]


@pytest.mark.parametrize("source", WRAP_SOURCES)
def test_wrap_check_from_recorded_text_agrees(source):
    """The line-length check of an original statement answered from its recorded text (where
    that is certain) says what generating the statement says."""
    from layer_migrate.codemod import wrap
    from layer_migrate.codemod.codegen import record

    for variant in (source, source.replace("\n", "\r\n"), source.replace("    ", "\t")):
        try:
            module = cst.parse_module(variant)
        except cst.ParserSyntaxError:
            continue
        spans = record(module)
        unit = len(module.default_indent)
        for stmt, depth in _simple_statements(module):
            for limit in (10, 30, 60, 79, 88, 120):
                fast = wrap._recorded_too_long(module, stmt, unit * depth, limit, spans)
                if fast is not None:
                    assert fast == wrap._too_long(module, stmt, unit * depth, limit)[0]


@pytest.mark.parametrize("source", WRAP_SOURCES)
def test_explode_first_equals_the_transformer(source):
    """The read-only search + path rebuild splits the same bracket pair, the same way, as the
    ``_ExplodeFirst`` transformer, round after round."""
    from layer_migrate.codemod import wrap

    for variant in (source, source.replace("    ", "\t")):
        try:
            module = cst.parse_module(variant)
        except cst.ParserSyntaxError:
            continue
        unit = module.default_indent if module.default_indent.strip() == "" else "    "
        for stmt, _ in _simple_statements(module):
            by_visit = by_path = stmt
            for _round in range(4):
                t = wrap._ExplodeFirst(module, unit, 20)
                by_visit = by_visit.visit(t)
                by_path = wrap._explode_first(module, by_path, unit, 20) or by_path
                assert module.code_for_node(by_visit) == module.code_for_node(by_path)
                if not t.done:
                    break
