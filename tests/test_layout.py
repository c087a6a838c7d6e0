"""The layering as a test: imports only go down (jobs -> pipeline -> filters -> schemas), the rooms inside
pipeline/ know only the rooms they are allowed to, and every package folder is installed under `jwc`."""
from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FLOORS = {"jobs": 3, "pipeline": 2, "filters": 1, "schemas": 0}
# pipeline/ root modules every room may use, and each room's allowed neighbours.
ROOT_MODULES = {"errors", "spark"}
ROOM_DEPS: dict[str, set[str]] = {
    "io": set(),
    "commoncrawl": {"io"},
    "extract": {"io"},
    "dedup": {"io"},
    "tokens": {"io"},
    "versions": {"io", "tokens"},
    "stats": {"io"},
    "sample": set(),
}
ROOT_FILES = {"__init__.py", "config.py", "spark.py", "errors.py"}


def _modules() -> list[tuple[str, Path]]:
    out = []
    for top in FLOORS:
        for path in sorted((REPO / top).rglob("*.py")):
            parts = list(path.relative_to(REPO).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out.append((".".join(parts), path))
    return out


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every absolute import in a file, `from a import b` giving `a.b` when b is a module."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{a.name}") for a in node.names if _is_module(f"{node.module}.{a.name}")]
    return found


def _is_module(dotted: str) -> bool:
    if not dotted.startswith("jwc."):
        return False
    rel = Path(*dotted.split(".")[1:])
    return (REPO / rel).with_suffix(".py").is_file() or (REPO / rel / "__init__.py").is_file()


def _room(module: str) -> str | None:
    """The pipeline room of `pipeline.x.y`, or None for a root module of pipeline/."""
    parts = module.split(".")
    if len(parts) >= 2 and (REPO / "pipeline" / parts[1]).is_dir():
        return parts[1]
    return None


def _violations() -> list[str]:
    problems = []
    for module, path in _modules():
        top = module.split(".")[0]
        where = f"{path.relative_to(REPO)}"
        for line, imported in _imports(path):
            head = imported.split(".")[0]
            if head in FLOORS:
                problems.append(f"{where}:{line}: imports {imported} outside the jwc namespace")
                continue
            if head != "jwc" or imported == "jwc":
                continue
            target = imported.split(".", 1)[1]
            ttop = target.split(".")[0]
            if FLOORS[ttop] > FLOORS[top]:
                problems.append(f"{where}:{line}: {top} imports {target} from a floor above")
            if top == ttop == "pipeline" and module != "pipeline.config":
                src, dst = _room(module), _room(target)
                leaf = target.split(".")[1] if "." in target else ""
                if dst is None:
                    if leaf not in ROOT_MODULES and target != "pipeline":
                        problems.append(f"{where}:{line}: pipeline modules may not import {target} "
                                        f"(only {sorted(ROOT_MODULES)} of the root)")
                elif src is not None and dst != src and dst not in ROOM_DEPS[src]:
                    problems.append(f"{where}:{line}: room {src} may not import room {dst} ({target})")
                elif src is None and dst is not None and module.split(".")[1] in ROOT_MODULES:
                    problems.append(f"{where}:{line}: root module {module} may not import room {dst}")
    return problems


def test_imports_only_go_down_and_rooms_stay_apart():
    assert _violations() == []


def test_tests_bench_and_notebooks_use_the_jwc_namespace():
    bare = []
    for folder in ("tests", "bench"):
        for path in (REPO / folder).rglob("*.py"):
            for line, imported in _imports(path):
                if imported.split(".")[0] in FLOORS:
                    bare.append(f"{path.relative_to(REPO)}:{line}: {imported}")
    assert bare == []


def test_pipeline_root_holds_only_shared_modules():
    loose = sorted(p.name for p in (REPO / "pipeline").glob("*.py") if p.name not in ROOT_FILES)
    assert loose == []


def test_no_room_holds_more_than_a_quarter_of_the_library():
    def lines(paths):
        return sum(len(p.read_text(encoding="utf-8").splitlines()) for p in paths)

    total = lines((REPO / "pipeline").rglob("*.py"))
    shares = {d.name: lines(d.rglob("*.py")) / total for d in (REPO / "pipeline").iterdir()
              if d.is_dir() and (d / "__init__.py").is_file()}
    assert set(shares) == set(ROOM_DEPS), "a room was added or removed: give it a line in ROOM_DEPS"
    assert max(shares.values()) <= 0.25, shares


def test_every_package_folder_is_installed_under_jwc():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    folders = {"jwc." + ".".join(p.parent.relative_to(REPO).parts)
               for top in FLOORS for p in (REPO / top).rglob("__init__.py")}
    assert set(project["packages"]) == folders
    assert project["package-dir"] == {f"jwc.{top}": top for top in FLOORS}


@pytest.mark.parametrize("module", ["jwc.jobs.cli", "jwc.pipeline.config", "jwc.filters.chain"])
def test_installed_modules_come_from_this_checkout(module):
    imported = __import__(module, fromlist=["_"])
    assert Path(imported.__file__).resolve().is_relative_to(REPO)


def test_test_modules_share_helpers_only_through_helper_modules():
    """Tests and benchmarks import shared code from tests/helpers.py (and other non-test modules), never from a test
    module or conftest: a test file's imports run its module-level code and tie unrelated tests together."""
    crossed = []
    for folder in ("tests", "bench"):
        for path in (REPO / folder).rglob("*.py"):
            for line, imported in _imports(path):
                leaf = imported.split(".")[-1]
                if imported.split(".")[0] in ("tests", "conftest") and (leaf.startswith("test_") or leaf == "conftest"):
                    crossed.append(f"{path.relative_to(REPO)}:{line}: {imported}")
    assert crossed == []
