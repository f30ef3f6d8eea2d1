"""The layout holds (docs/ARCHITECTURE.md): no import cycles between modules or packages, and the pure modules read no files, clock or process time zone."""
from __future__ import annotations

import ast
import importlib.util
import tomllib
from pathlib import Path

import grimp
import pytest

# In-process and read-only (grimp parses the sources): the pure tier (tests/conftest.py).
pytestmark = pytest.mark.pure

ROOT = Path(__file__).resolve().parent.parent
ROOTS = ("protocols", "console", "stations", "scenarios")
FLAT = ("protocols", "scenarios")        # one room each: a package-level node of its own
ROOMS = ("console", "stations")          # their subpackages (console.hub, stations.link...) are the nodes


def _graph() -> grimp.ImportGraph:
    # Imports under TYPE_CHECKING count here: a type hint may not close a loop either.
    return grimp.build_graph(*ROOTS, exclude_type_checking_imports=False, cache_dir=None)


def _cycles(nodes: set[str], edges: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one node (Tarjan, iterative), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(nodes):
        if start in index:
            continue
        work = [(start, iter(sorted(edges.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on.add(start)
        while work:
            v, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on:
                    low[v] = min(low[v], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                group = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    group.append(w)
                    if w == v:
                        break
                if len(group) > 1:
                    found.append(sorted(group))
    return sorted(found)


def _unit(graph: grimp.ImportGraph, module: str) -> str:
    """The package a module counts in: protocols and scenarios whole, else its own package."""
    top = module.split(".")[0]
    if top in FLAT:
        return top
    if graph.find_children(module):
        return module
    parent = module.rsplit(".", 1)[0]
    return module if parent in ROOMS else parent   # console.cli, stations.records: a node each


def test_no_module_imports_another_that_imports_it_back():
    graph = _graph()
    mods = set(graph.modules)
    edges = {m: set(graph.find_modules_directly_imported_by(m)) & mods for m in mods}
    cycles = _cycles(mods, edges)
    assert not cycles, "module import cycles:\n" + "\n".join(" <-> ".join(c) for c in cycles)


def test_no_package_imports_another_that_imports_it_back():
    graph = _graph()
    mods = set(graph.modules)
    edges: dict[str, set[str]] = {}
    for m in mods:
        for d in graph.find_modules_directly_imported_by(m):
            if d not in mods:
                continue
            a, b = _unit(graph, m), _unit(graph, d)
            # A package and what it contains are one thing, not two that depend on each other.
            if a != b and not b.startswith(a + ".") and not a.startswith(b + "."):
                edges.setdefault(a, set()).add(b)
    nodes = set(edges) | {b for bs in edges.values() for b in bs}
    cycles = _cycles(nodes, edges)
    assert not cycles, "package import cycles:\n" + "\n".join(" <-> ".join(c) for c in cycles)


def test_the_cycle_finder_finds_cycles():
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}}
    assert _cycles(set(edges), edges) == [["a", "b", "c"]]


# --- the pure modules: the ones the pyproject.toml contract names as the pure core ---------------

def _pure_files() -> list[Path]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    contract = next(c for c in config["tool"]["importlinter"]["contracts"] if c["name"].startswith("the pure core"))
    files: list[Path] = []
    for name in contract["source_modules"]:
        origin = Path(importlib.util.find_spec(name).origin)
        files += sorted(origin.parent.rglob("*.py")) if origin.name == "__init__.py" else [origin]
    return files


_CLOCK_AND_ZONE = {("time", "localtime"), ("time", "mktime"), ("time", "time"), ("time", "gmtime"),
                   ("time", "strftime"), ("time", "time_ns"), ("date", "today")}


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def _offences(path: Path, root: Path = ROOT) -> list[str]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        name = _dotted(node.func)
        last2 = tuple(name.split(".")[-2:])
        where = f"{path.relative_to(root)}:{node.lineno}: {name}()"
        if name in ("open", "io.open") or name.endswith((".read_text", ".read_bytes", ".open", ".glob", ".iterdir")):
            found.append((node.lineno, where + " reads a file"))
        elif last2 in _CLOCK_AND_ZONE:
            found.append((node.lineno, where + " reads the clock or the process time zone"))
        elif name.endswith(("datetime.now", "datetime.fromtimestamp")) and not node.args and not node.keywords:
            found.append((node.lineno, where + " without a zone reads the process time zone"))
        elif name.endswith(".astimezone") and not node.args and not node.keywords:
            found.append((node.lineno, where + " without a zone converts to the process time zone"))
    return [text for _, text in sorted(found)]


def test_pure_modules_read_no_files_clock_or_process_time_zone():
    files = _pure_files()
    assert any(p.name == "plan_library.py" for p in files) and any(p.name == "drill.py" for p in files)
    offences = [o for p in files for o in _offences(p)]
    assert not offences, "\n".join(offences)


def test_the_purity_check_sees_what_it_looks_for(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import time, datetime as dt\nopen('x')\np.read_text()\ntime.localtime()\ntime.mktime(t)\n"
                   "dt.datetime.now()\ndt.datetime.now(tz)\n", "utf-8")
    kinds = [o.split(": ", 1)[1] for o in _offences(bad, tmp_path)]
    assert kinds == ["open() reads a file", "p.read_text() reads a file",
                     "time.localtime() reads the clock or the process time zone",
                     "time.mktime() reads the clock or the process time zone",
                     "dt.datetime.now() without a zone reads the process time zone"]


def test_every_module_is_on_the_map():
    """docs/ARCHITECTURE.md names every module under its folder: a module added without a line there fails."""
    text = (ROOT / "docs" / "ARCHITECTURE.md").read_text("utf-8")
    listed, folder = set(), None
    for line in text[text.index("## Every module, in a line"):].splitlines():
        if line.startswith("**`") and line.endswith("`**"):
            folder = line[3:-3]
        elif line.startswith("- `") and folder is not None:
            listed.add(folder + line[3:line.index("`", 3)])
    present = {str(p.relative_to(ROOT)) for root in ROOTS for p in (ROOT / root).rglob("*.py")}
    missing = sorted(present - listed)
    assert not missing, "not in docs/ARCHITECTURE.md's module list:\n  " + "\n  ".join(missing)
    assert not listed - present, f"listed but gone: {sorted(listed - present)}"
