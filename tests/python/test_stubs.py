"""The type stubs shipped with the package (py.typed, __init__.pyi) declare every public name of
the runtime, every public method and property of its classes, with the same parameter names and
kinds; pip (package-data) and make install ship them."""
import ast
import inspect
import os

from conftest import ROOT

PKG = os.path.join(ROOT, "bindings", "python", "avengers")


def _stub():
    with open(os.path.join(PKG, "__init__.pyi")) as f:
        return ast.parse(f.read())


def _declared(tree):
    names, classes = set(), {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            names.add(node.name)
            classes[node.name] = {n.name: n for n in node.body if isinstance(n, ast.FunctionDef)}
            classes[node.name].update({t.target.id: None for t in node.body
                                       if isinstance(t, ast.AnnAssign)})
        elif isinstance(node, ast.FunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign):
            names.add(node.target.id)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names, classes


def _stub_params(fn):
    a = fn.args
    pos = [x.arg for x in a.posonlyargs + a.args]
    return pos, [x.arg for x in a.kwonlyargs], a.vararg is not None, a.kwarg is not None


def _runtime_params(fn):
    sig = inspect.signature(fn)
    P = inspect.Parameter
    pos = [p.name for p in sig.parameters.values() if p.kind in (P.POSITIONAL_ONLY, P.POSITIONAL_OR_KEYWORD)]
    kw = [p.name for p in sig.parameters.values() if p.kind == P.KEYWORD_ONLY]
    return (pos, kw, any(p.kind == P.VAR_POSITIONAL for p in sig.parameters.values()),
            any(p.kind == P.VAR_KEYWORD for p in sig.parameters.values()))


def test_shipped_files():
    assert os.path.exists(os.path.join(PKG, "py.typed"))
    with open(os.path.join(ROOT, "bindings", "python", "pyproject.toml")) as f:
        toml = f.read()
    assert 'avengers = ["py.typed", "*.pyi"]' in toml


def test_every_public_name_is_declared(avengers):
    names, _ = _declared(_stub())
    missing = [n for n in avengers.__all__ if n not in names]
    assert not missing, "__init__.pyi lacks %s" % missing
    assert "__version__" in names


def test_methods_match_the_runtime(avengers):
    _, classes = _declared(_stub())
    for cls in (avengers.Router, avengers.Builder, avengers.Evaluation, avengers.Replay,
                avengers.RouteExplanation):
        stub = classes[cls.__name__]
        for name, member in vars(cls).items():
            if name.startswith("_") and name not in ("__init__", "__len__", "__int__"):
                continue
            if isinstance(member, property):
                assert name in stub, "%s.%s (a property) is not in the stub" % (cls.__name__, name)
                continue
            fn = member.__func__ if isinstance(member, (classmethod, staticmethod)) else member
            if not inspect.isfunction(fn):
                continue
            assert name in stub and stub[name] is not None, "%s.%s is not in the stub" % (cls.__name__, name)
            assert _stub_params(stub[name]) == _runtime_params(fn), \
                "%s.%s: the stub's parameters differ from the runtime's" % (cls.__name__, name)
    # RouteExplanation's fields
    for field in avengers.RouteExplanation.__slots__:
        assert field in classes["RouteExplanation"], field


def test_functions_match_the_runtime(avengers):
    tree = _stub()
    fns = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    for name in avengers.__all__:
        obj = getattr(avengers, name)
        if inspect.isfunction(obj):
            assert _stub_params(fns[name]) == _runtime_params(obj), name
