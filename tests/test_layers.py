"""Imports point one way: app.py -> page -> lucky5. The core never imports Streamlit or the page package.

Every module is read with ``ast`` (subpackages included), so an import inside a function counts as much as
one at the top of a file.
"""

from __future__ import annotations

import ast
import graphlib
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORE = sorted((ROOT / "lucky5").rglob("*.py"))
PAGE = sorted((ROOT / "page").rglob("*.py"))
PRODUCT = [*CORE, *PAGE, ROOT / "app.py"]
CORE_MAX_LINES = 650
PAGE_MAX_LINES = 300


def module_name(path: Path, root: Path = ROOT) -> str:
    """``lucky5/theory/__init__.py`` -> ``lucky5.theory``; ``page/state.py`` -> ``page.state``."""
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, modules: Iterable[str] = (), root: Path = ROOT) -> set[str]:
    """The module names ``path`` imports, relative imports resolved, wherever the import statement sits.

    ``from x import y`` names ``x.y`` when that is one of ``modules`` (a submodule), else ``x``.
    """
    known = set(modules)
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base)
    return found


def top_level(path: Path) -> set[str]:
    return {name.split(".")[0] for name in imports(path)}


def import_circle(paths: Iterable[Path], root: Path = ROOT) -> tuple[str, ...] | None:
    """One circle in the import graph of ``paths`` (as module names, the first repeated last), or None.

    Only imports among ``paths`` count; importing ``a.b`` is an edge to ``a.b`` alone (a package that
    imports its own submodules would otherwise be a circle with each of them).
    """
    files = list(paths)
    names = {module_name(p, root) for p in files}
    graph = {module_name(p, root): imports(p, names, root) & names for p in files}
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as error:
        return tuple(error.args[1])
    return None


def test_the_scan_sees_every_package():
    assert CORE and PAGE, "no modules found"
    assert {"lucky5", "page"} <= {module_name(p) for p in PRODUCT if p.name == "__init__.py"}


def test_the_core_imports_neither_streamlit_nor_the_page():
    for path in CORE:
        assert not top_level(path) & {"streamlit", "page", "app"}, path.relative_to(ROOT)


def test_the_page_package_never_imports_the_app():
    for path in PAGE:
        assert "app" not in top_level(path), path.relative_to(ROOT)


def test_importing_every_core_module_loads_no_streamlit():
    modules = ", ".join(module_name(p) for p in CORE if p.stem != "__main__")
    code = f"import sys, {modules}; bad = {{'streamlit', 'page'}} & set(sys.modules); assert not bad, bad"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]


def test_the_circle_finder_sees_a_circle_through_an_import_inside_a_function(tmp_path):
    files = {
        "pkg/__init__.py": "from .a import A\n",
        "pkg/a.py": "from . import b\nA = 1\n",
        "pkg/b.py": "def late():\n    from .sub import c\n",
        "pkg/sub/__init__.py": "",
        "pkg/sub/c.py": "from .. import a\n",
        "pkg/d.py": "from pkg import a\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    paths = sorted(tmp_path.rglob("*.py"))
    circle = import_circle(paths, tmp_path)
    assert circle is not None and circle[0] == circle[-1]
    assert set(circle) == {"pkg.a", "pkg.b", "pkg.sub.c"}
    (tmp_path / "pkg/sub/c.py").write_text("import pkg.sub\n")
    assert import_circle(paths, tmp_path) is None


def test_no_import_circle_anywhere_in_the_product():
    circle = import_circle(PRODUCT)
    assert circle is None, "import circle: " + " -> ".join(circle or ())


def test_no_module_is_too_long():
    limits = [(CORE, CORE_MAX_LINES), ([*PAGE, ROOT / "app.py"], PAGE_MAX_LINES)]
    too_long = {
        str(path.relative_to(ROOT)): lines
        for paths, limit in limits
        for path in paths
        if (lines := len(path.read_text().splitlines())) > limit
    }
    assert not too_long, f"core modules over {CORE_MAX_LINES} lines, page modules over {PAGE_MAX_LINES}: {too_long}"


def test_no_two_test_modules_share_a_name():
    """pytest imports test modules by their base name (no packages here): two ``test_x.py`` in different
    folders stop the whole collection, which running one module alone never shows."""
    names = [path.name for path in (ROOT / "tests").rglob("test_*.py")]
    assert sorted({n for n in names if names.count(n) > 1}) == []
