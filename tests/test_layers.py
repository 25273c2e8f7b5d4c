"""Imports point one way: app.py -> page -> lucky5. The core never imports Streamlit or the page package."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORE = sorted((ROOT / "lucky5").glob("*.py"))
PAGE = sorted((ROOT / "page").glob("*.py"))


def imported(path: Path) -> set[str]:
    """Top-level names of every module ``path`` imports (relative imports count as its own package)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            names.add(path.parent.name if node.level else (node.module or "").split(".")[0])
    return names


def test_the_core_imports_neither_streamlit_nor_the_page():
    assert CORE, "no core modules found"
    for path in CORE:
        assert not imported(path) & {"streamlit", "page", "app"}, path.name


def test_the_page_package_never_imports_the_app():
    assert PAGE, "no page modules found"
    for path in PAGE:
        assert "app" not in imported(path), path.name


def test_importing_every_core_module_loads_no_streamlit():
    modules = ", ".join(f"lucky5.{p.stem}" for p in CORE if p.stem not in ("__init__", "__main__"))
    code = f"import sys, {modules}; bad = {{'streamlit', 'page'}} & set(sys.modules); assert not bad, bad"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
