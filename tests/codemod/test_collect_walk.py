"""The collect pass's own walk makes the same calls, in the same order, as ``module.visit``."""

from pathlib import Path

import libcst as cst
import pytest

from layer_migrate.codemod import api
from layer_migrate.codemod.collect import Collector, _walk

ROOT = Path(__file__).resolve().parents[2]


class Recording(Collector):
    def __init__(self, skip=None):
        super().__init__(skip)
        self.log = []

    def visit_Call(self, node):
        self.log.append(("call", id(node), self.scopes[-1]))
        super().visit_Call(node)

    def visit_Assign(self, node):
        self.log.append(("assign", id(node), self.scopes[-1]))
        super().visit_Assign(node)

    def visit_AnnAssign(self, node):
        self.log.append(("annassign", id(node), self.scopes[-1]))
        super().visit_AnnAssign(node)

    def visit_Return(self, node):
        self.log.append(("return", id(node), tuple(self.funcs)))
        super().visit_Return(node)

    def visit_FunctionDef(self, node):
        self.log.append(("def", id(node)))
        super().visit_FunctionDef(node)

    def leave_FunctionDef(self, node):
        self.log.append(("/def", id(node)))
        super().leave_FunctionDef(node)


SOURCES = sorted((ROOT / "samples" / "legacy_app").rglob("*.py")) + sorted(
    (ROOT / "layer_migrate").rglob("*.py"))[:40]

EXTRA = '''
@client.post(f"/apps/{x:>{width}}", data=lambda: (yield d))
class A(make_base("POST", url), metaclass=M):
    @deco(requests.get(u))
    def f(self, a=g("POST", "/apps/1/conversations", b), *, k: h(1) = 2) -> r("GET", v):
        x = requests.post(u, json=b) if c(1) else s.get(w)
        y: int = {k(1): v(2) for k in z(3) if q(4)}
        try:
            return [m(1) for _ in n(2)]
        except E(3) as e:
            return e(4)
        finally:
            del x[z(5)]
    match p(1):
        case {"a": 1} if g(2):
            pass
'''


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_same_calls_as_libcst_visit(path):
    _check(path.read_bytes())


def test_same_calls_on_odd_syntax():
    _check(EXTRA.encode())


def _check(code):
    module = cst.parse_module(code)
    for skip in (set(), api.prune(module)):
        a, b = Recording(skip), Recording(skip)
        module.visit(a)
        _walk(b, module)
        assert a.log == b.log
        assert a.assigns.keys() == b.assigns.keys() and a.returns.keys() == b.returns.keys()


def test_discovery_honours_gitignore(tmp_path):
    """Issue 16: a virtualenv named ``env/`` listed in .gitignore is not walked; nested
    .gitignore files apply below their folder; --exclude still works."""
    from layer_migrate.codemod.runner import discover

    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("env/\n*_generated.py\n")
    for rel in ("src/app.py", "env/lib/site.py", "src/x_generated.py", "src/sub/keep.py", "src/sub/skip.py",
                "build_tools/b.py"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x = 1\n")
    (tmp_path / "src" / "sub" / ".gitignore").write_text("skip.py\n")
    files, _ = discover([str(tmp_path / "src")])
    assert sorted(f.relative_to(tmp_path).as_posix() for f in files) == ["src/app.py", "src/sub/keep.py"]
    files, _ = discover([str(tmp_path)], excludes=["build_tools"])
    assert sorted(f.relative_to(tmp_path).as_posix() for f in files) == ["src/app.py", "src/sub/keep.py"]
