"""The package declares what it imports and ships what it lists."""
from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def _imported_modules() -> set[str]:
    names = set()
    for path in [*(ROOT / "snp_service").rglob("*.py"), *(ROOT / "config").rglob("*.py"), ROOT / "wsgi.py"]:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"snp_service", "config"}


def _declared() -> set[str]:
    return {re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")
            for requirement in PYPROJECT["project"]["dependencies"]}


def test_every_third_party_import_is_a_declared_dependency():
    distributions = packages_distributions()
    undeclared = {module: distributions.get(module) for module in _imported_modules()
                  if not {d.lower().replace("_", "-") for d in distributions.get(module, [module])} & _declared()}
    assert undeclared == {}


def test_package_data_lists_only_files_that_exist():
    for package, patterns in PYPROJECT["tool"]["setuptools"]["package-data"].items():
        for pattern in patterns:
            assert any((ROOT / package).glob(pattern)), f"{package}/{pattern} matches nothing"
