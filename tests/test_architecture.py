"""The architecture as a contract: layers, outside systems and import cycles.

Layers, lowest first: physics ← analysis ← trainables ← study. A package may import only the ones
below it; only study/ imports ray, optuna and mlflow. Inside a package the import graph, counting
imports inside functions too, has no cycle. Read from the source with ast, so the check needs no
import and cannot be fooled by lazy imports.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("physics", "analysis", "trainables", "study")
OUTSIDE = ("ray", "optuna", "mlflow")


def _imports(path: Path) -> set[str]:
    """Dotted names imported anywhere in ``path`` (relative imports resolved)."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def _modules(package: str) -> dict[str, Path]:
    files = sorted((ROOT / package).rglob("*.py"))
    return {".".join(f.relative_to(ROOT).with_suffix("").parts): f for f in files}


@pytest.mark.parametrize("index", range(len(LAYERS)))
def test_each_layer_imports_only_layers_below_it(index):
    package, above = LAYERS[index], LAYERS[index + 1 :]
    forbidden = (*above, *(OUTSIDE if package != "study" else ()))
    bad = sorted(
        f"{module} imports {name}"
        for module, path in _modules(package).items()
        for name in _imports(path)
        if name.split(".")[0] in forbidden
    )
    assert bad == []


@pytest.mark.parametrize("package", LAYERS)
def test_no_import_cycle_inside_a_package(package):
    modules = _modules(package)
    graph = {
        module: {
            other
            for name in _imports(path)
            for other in modules
            if other != module
            and other != package
            and (name == other or name.startswith(other + "."))
        }
        for module, path in modules.items()
    }
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> list[str] | None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*trail, node, nxt]
            if nxt not in state and (cycle := visit(nxt, [*trail, node])):
                return cycle
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start, [])):
            pytest.fail(" → ".join(cycle))


MAX_LINES = 400  # a module longer than this holds more than one concern


@pytest.mark.parametrize("package", LAYERS)
def test_no_module_is_longer_than_max_lines(package):
    long = {
        module: n
        for module, path in _modules(package).items()
        if (n := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


# The study package's layers, lowest first: a module may import its own layer and those below.
STUDY_LAYERS = (
    ("study.console",),
    ("study.files",),
    ("study.read",),
    ("study.run", "study.reproduce"),
    ("study.cli", "study.ui", "study.detach"),
)
TOP_MODULES = 8  # study/'s own modules beside its subpackages, at most


def _study_layer(name: str) -> int | None:
    for level, prefixes in enumerate(STUDY_LAYERS):
        if any(name == p or name.startswith(p + ".") for p in prefixes):
            return level
    return None


def test_the_study_package_imports_only_down_its_layers():
    # Rule: the read side never imports the run side, nothing imports the command line, and
    # files and console know nothing above them. Failing lines name the import.
    bad = []
    for module, path in _modules("study").items():
        own = _study_layer(module)
        if own is None:  # study/__init__.py: the old names of moved modules, nothing more
            continue
        for name in _imports(path):
            other = _study_layer(name)
            if other is not None and other > own:
                bad.append(f"{module} (layer {own}) imports {name} (layer {other})")
    assert bad == []


def test_the_study_folder_shows_its_flow():
    top = sorted(p.name for p in (ROOT / "study").glob("*.py"))
    assert len(top) <= TOP_MODULES, top
    for package in ("files", "read", "run", "reproduce"):
        assert (ROOT / "study" / package / "__init__.py").is_file(), package


def test_a_searchable_parameter_is_one_row():
    # Rule: the table of searchable parameters (study/files/params.py) is the one place that
    # names them in study/; the report, the search and the config read it.
    found = sorted(
        str(path.relative_to(ROOT))
        for path in (ROOT / "study").rglob("*")
        if path.suffix in (".py", ".yaml")
        and "reproduce" not in path.parts
        and "presets" not in path.parts
        and any(word in path.read_text() for word in ("refine_steps", "symmetry"))
    )
    assert found == ["study/files/params.py"], found


def test_mlflow_has_one_owner():
    # Rule: every MLflow call goes through study.files.tracking (its Tracker); no other module imports it.
    owners = sorted(
        module
        for package in LAYERS
        for module, path in _modules(package).items()
        if any(name.split(".")[0] == "mlflow" for name in _imports(path))
    )
    assert owners == ["study.files.tracking"]


def _heavy_modules_loaded(modules: str) -> list[str]:
    """Which of torch, scikit-learn, Ray and Optuna a fresh interpreter holds after importing
    ``modules`` (a comma-separated list)."""
    import subprocess
    import sys

    code = (
        f"import sys, {modules}; "
        "print(' '.join(m for m in ('torch', 'sklearn', 'ray', 'optuna') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.split()


def test_the_cli_and_ui_load_without_torch_or_scikit_learn():
    # `scalefree ui` and every bad-input line must not wait for torch (~2 s) or scikit-learn: the
    # CLI, the UI and the input checks stay light (benchmarks/ui_startup.py measures the gain).
    loaded = _heavy_modules_loaded(
        "study.cli, study.ui, study.files.errors, physics.checks, trainables.metrics"
    )
    assert loaded == []


def test_the_study_driver_loads_without_torch():
    # The driver generates data through Ray tasks and reads it as numpy: importing torch there
    # (as study.files.config once did through physics.hamiltonian's constants) costs ~2 s of every
    # study's start, on the path before the first trial (benchmarks/study_overhead.py).
    loaded = _heavy_modules_loaded(
        "study.run.launch, study.run.driver, study.run.data, study.run.search, study.read.report, study.files.tracking, "
        "study.run.optuna_search"
    )
    assert "torch" not in loaded


def test_the_physics_package_still_exports_the_hamiltonian_function():
    # physics loads lazily; its submodule `hamiltonian` must not shadow the function of that name.
    import physics
    import physics.hamiltonian  # noqa: F401  (binds the submodule on the package)

    assert callable(physics.hamiltonian) and physics.hamiltonian.__name__ == "hamiltonian"
    assert callable(physics.mode_areas)
