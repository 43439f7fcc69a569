"""The house rules of docs/architecture.md, checked on the source itself.

The engine imports nothing above it; the protocol imports no torch; no import circle between rftoy modules (type-only
imports included); no module over MAX_MODULE_LINES lines and no class over MAX_CLASS_LINES, in Python and in the page.
"""

from __future__ import annotations

import ast
import graphlib
import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "server" / "rftoy"
WEB = REPO / "web"
ARCHITECTURE = REPO / "docs" / "architecture.md"
MAX_MODULE_LINES = 400
MAX_CLASS_LINES = 250
ABOVE_ENGINE = ("rftoy.live", "rftoy.api", "rftoy.protocol", "rftoy.cli", "rftoy.benchmark", "rftoy.yardstick",
                "fastapi", "starlette", "websockets", "uvicorn")
ENGINE_MAY_USE = ("torch", "numpy", "scipy.optimize")  # loaded once before the engine's probes, to save time
# Each layer of docs/architecture.md and the layers it may import (`rftoy` is the package's own __init__).
MAY_IMPORT = {
    "rftoy": set(),
    "vocab": set(),
    "settings": {"vocab"},
    "engine": {"vocab", "settings"},
    "protocol": {"vocab", "settings"},
    "live": {"vocab", "settings", "engine", "protocol"},
    "api": {"vocab", "settings", "engine", "protocol", "live"},
    "yardstick": {"vocab", "settings", "engine"},
    "results": set(),
    "benchmark": {"vocab", "settings", "engine", "protocol", "live", "yardstick", "results"},
    "cli": {"vocab", "settings", "engine", "protocol", "live", "api", "benchmark"},
}
TORCH_FREE = {"rftoy.protocol": ("torch", "rftoy.engine", "rftoy.live", "rftoy.api"), "rftoy.vocab": ("torch",)}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}
ENGINE_MODULES = sorted(name for name in MODULES if name.startswith("rftoy.engine"))


def probe(preload: tuple[str, ...], modules: dict[str, tuple[str, ...]]) -> dict[str, list[str] | str]:
    """In this interpreter: load `preload`, then import each module in a forked child that had no rftoy module
    loaded, and return, for each, the watched modules (or below them) it loaded, or its import error."""
    for name in preload:
        importlib.import_module(name)
    assert not any(name.startswith("rftoy") for name in sys.modules), "the probe must start without rftoy"
    found: dict[str, list[str] | str] = {}
    for module, watched in modules.items():
        read, write = os.pipe()
        if os.fork() == 0:
            os.close(read)
            try:
                importlib.import_module(module)
                below = tuple(f"{name}." for name in watched)
                report: list[str] | str = sorted(m for m in sys.modules if m in watched or m.startswith(below))
            except Exception as error:
                report = f"importing {module} failed: {error!r}"
            with os.fdopen(write, "w") as out:
                json.dump(report, out)
            os._exit(0)
        os.close(write)
        with os.fdopen(read) as answer:
            found[module] = json.load(answer)
        os.wait()
    return found


def run_probe(preload: tuple[str, ...], modules: dict[str, tuple[str, ...]]) -> dict[str, list[str] | str]:
    """`probe` in a fresh interpreter."""
    args = [sys.executable, __file__, json.dumps(preload), json.dumps(modules)]
    done = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def engine_imports() -> dict[str, list[str] | str]:
    return run_probe(ENGINE_MAY_USE, {module: ABOVE_ENGINE for module in ENGINE_MODULES})


@pytest.mark.parametrize("module", ENGINE_MODULES)
def test_an_engine_module_imports_nothing_above_the_engine(engine_imports: dict[str, list[str] | str],
                                                           module: str) -> None:
    assert engine_imports[module] == []


def test_the_protocol_and_the_shared_names_import_no_torch() -> None:
    assert run_probe((), TORCH_FREE) == {module: [] for module in TORCH_FREE}


def test_the_probe_sees_what_an_import_loads() -> None:
    assert run_probe((), {"rftoy.vocab": ("rftoy",)}) == {"rftoy.vocab": ["rftoy", "rftoy.vocab"]}


def rftoy_imports(name: str, path: Path) -> set[str]:
    """Every rftoy module that `name` imports anywhere in its text (type-only and function-level imports too)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                found.add(submodule if submodule in MODULES else base)
    return {target for target in found if target in MODULES and target != name}


def test_no_import_circle_between_rftoy_modules() -> None:
    graph = {name: rftoy_imports(name, path) for name, path in MODULES.items()}
    try:
        tuple(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as error:
        pytest.fail(f"import circle: {' -> '.join(reversed(error.args[1]))}")


def layer_of(module: str) -> str:
    return module.split(".")[1] if "." in module else module


def test_each_layer_imports_only_the_layers_below_it() -> None:
    wrong = [f"{name} imports {target}" for name, path in MODULES.items() for target in rftoy_imports(name, path)
             if layer_of(target) != layer_of(name) and layer_of(target) not in MAY_IMPORT[layer_of(name)]]
    assert not wrong, "imports against the layers: " + "; ".join(sorted(wrong))


def test_the_import_scan_finds_a_type_only_circle(tmp_path: Path) -> None:
    source = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from rftoy.live.session import Round\n"
    path = tmp_path / "chunk.py"
    path.write_text(source)
    assert rftoy_imports("rftoy.live.chunk", path) == {"rftoy.live.session"}


def long_python_classes(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    return [f"{node.name} ({node.end_lineno - node.lineno + 1} lines)" for node in ast.walk(tree)
            if isinstance(node, ast.ClassDef) and node.end_lineno - node.lineno + 1 > MAX_CLASS_LINES]


def js_code_only(text: str) -> str:
    """`text` with comments, string contents and the literal parts of template strings blanked (newlines kept)."""
    out: list[str] = []
    i, n = 0, len(text)
    templates: list[int] = []  # for each open `${`, the brace depth inside it
    while i < n:
        c, pair = text[i], text[i : i + 2]
        if pair == "//":
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif pair == "/*":
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            out.append("\n" * text.count("\n", i, end))
            i = end
        elif c in "'\"":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            out.append(c + c)
            i = j + 1
        elif c == "`" or (c == "}" and templates and templates[-1] == 0):
            if c == "}":
                templates.pop()
            j = i + 1
            while j < n and text[j] != "`" and text[j : j + 2] != "${":
                j += 2 if text[j] == "\\" else 1
            out.append("`" + "\n" * text.count("\n", i, j))
            if text[j : j + 2] == "${":
                templates.append(0)
                j += 2
            else:
                j += 1
            i = j
        else:
            if templates and c in "{}":
                templates[-1] += 1 if c == "{" else -1
            out.append(c)
            i += 1
    return "".join(out)


def is_name_char(c: str) -> bool:
    return bool(c) and (c.isalnum() or c in "_$")


def long_js_classes(text: str) -> list[str]:
    """Classes (`class X {` or `class X extends Y {`) longer than MAX_CLASS_LINES, by matching braces."""
    code = js_code_only(text)
    found = []
    starts = [i for i in range(len(code)) if code.startswith("class ", i) and not is_name_char(code[i - 1 : i])]
    for start in starts:
        head = code[start : code.find("{", start)].split()
        if len(head) < 2 or not head[1].isidentifier():
            continue
        depth, i = 0, code.find("{", start)
        while i < len(code):
            depth += {"{": 1, "}": -1}.get(code[i], 0)
            if depth == 0:
                break
            i += 1
        lines = code.count("\n", start, i) + 1
        if lines > MAX_CLASS_LINES:
            found.append(f"{head[1]} ({lines} lines)")
    return found


def test_the_js_class_scan_skips_braces_in_strings_and_comments() -> None:
    body = "\n".join(f"  m{k}() {{ return '}}' + `${{{{a: {k}}}.a}}}}`; }} // }}" for k in range(MAX_CLASS_LINES))
    text = f"/* class Fake {{ */\nexport class Long extends Base {{\n{body}\n}}\nclass Short {{ x = '{{'; }}\n"
    assert long_js_classes(text) == [f"Long ({MAX_CLASS_LINES + 2} lines)"]


def line_count(path: Path) -> int:
    return len(path.read_text().splitlines())


def test_no_python_module_over_the_line_limit() -> None:
    long = {f"{path.relative_to(REPO)} ({line_count(path)} lines)" for path in MODULES.values()
            if line_count(path) > MAX_MODULE_LINES}
    assert not long, f"modules over {MAX_MODULE_LINES} lines: {', '.join(sorted(long))}"


def test_no_python_class_over_the_line_limit() -> None:
    long = [f"{path.relative_to(REPO)}: {entry}" for path in MODULES.values() for entry in long_python_classes(path)]
    assert not long, f"classes over {MAX_CLASS_LINES} lines: {', '.join(long)}"


def test_no_page_module_over_the_line_limit() -> None:
    long = [f"{path.relative_to(REPO)} ({line_count(path)} lines)" for path in sorted(WEB.glob("*.js"))
            if line_count(path) > MAX_MODULE_LINES]
    assert not long, f"page modules over {MAX_MODULE_LINES} lines: {', '.join(long)}"


def test_no_page_class_over_the_line_limit() -> None:
    long = [f"{path.relative_to(REPO)}: {entry}" for path in sorted(WEB.glob("*.js"))
            for entry in long_js_classes(path.read_text())]
    assert not long, f"page classes over {MAX_CLASS_LINES} lines: {', '.join(long)}"


def map_sections() -> dict[str, str]:
    """docs/architecture.md's sections by their heading line."""
    parts = ARCHITECTURE.read_text().split("\n### ")[1:]
    return {part.partition("\n")[0]: part.partition("\n")[2] for part in parts}


def test_every_module_is_on_the_map() -> None:
    """Each module is named in its own layer's section of docs/architecture.md (the page's too), so the map
    follows when a module is added, split or renamed."""
    sections = map_sections()
    missing = []
    for path in [*MODULES.values(), *sorted(WEB.glob("*.js"))]:
        if path.name == "__init__.py":
            continue
        if path.parent == WEB:
            where = "`web/`"
        elif path.parent == PACKAGE:
            where = f"rftoy/{path.name}"
        else:
            where = f"rftoy/{path.parent.name}/"
        if not any(where in heading and f"`{path.name}`" in text for heading, text in sections.items()):
            missing.append(str(path.relative_to(REPO)))
    assert not missing, f"modules that docs/architecture.md does not name in their layer's section: {missing}"


if __name__ == "__main__":
    print(json.dumps(probe(tuple(json.loads(sys.argv[1])), json.loads(sys.argv[2]))))
