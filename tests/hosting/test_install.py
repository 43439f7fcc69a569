"""`pip install .` (not editable) into a fresh environment, then `rftoy serve` from outside the checkout: the
installed package carries the page and the WGSL files and serves them."""

from __future__ import annotations

import os
import re
import shutil
import site
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "README.md", "server", "web", "shaders")  # what a build of the project reads
RUNNING = re.compile(r"Uvicorn running on http://127\.0\.0\.1:(\d+)")


def clean_env(**values: str) -> dict[str, str]:
    """This environment without rftoy's settings or a PYTHONPATH (which could find the checkout), plus `values`."""
    env = {name: value for name, value in os.environ.items() if not name.startswith(("RFTOY_", "PYTHON"))}
    return {**env, **values}


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv with rftoy installed from a copy of the checkout (so the build leaves nothing in the repository);
    torch and the other dependencies come from this environment's site-packages, through a .pth file."""
    root = tmp_path_factory.mktemp("install")
    source = root / "source"
    for name in SOURCES:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            source.mkdir(exist_ok=True)
            shutil.copy(REPO / name, source / name)
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60)
    python = venv / "bin" / "python"
    venv_site = Path(subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                                    capture_output=True, text=True, check=True, env=clean_env()).stdout.strip())
    (venv_site / "parent_env.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps",
                    "--no-build-isolation", "--no-index", str(source)], check=True, cwd=root, timeout=300,
                   capture_output=True, env=clean_env())
    return venv


def _modules(package: Path) -> set[str]:
    return {str(path.relative_to(package)) for path in package.rglob("*.py")}


def test_the_wheel_holds_every_module_of_the_package(installed: Path) -> None:
    found = subprocess.run([installed / "bin" / "python", "-c", "import rftoy; print(rftoy.__file__)"],
                           capture_output=True, text=True, check=True, cwd=installed, env=clean_env()).stdout.strip()
    package = Path(found).parent
    assert package.is_relative_to(installed), f"rftoy imported from {found}, not from the fresh install"
    assert _modules(package) == _modules(REPO / "server" / "rftoy")
    assert {p.name for p in (package / "static" / "shaders").iterdir()} == {p.name for p in
                                                                             (REPO / "shaders").glob("*.wgsl")}


@pytest.fixture
def served(installed: Path, tmp_path: Path) -> Iterator[str]:
    """`rftoy serve --port 0` from the fresh install, run in an empty folder; its address once uvicorn listens."""
    env = clean_env(RFTOY_DEVICE="cpu", RFTOY_DATABASE=str(tmp_path / "scenes.sqlite3"), HOME=str(tmp_path))
    process = subprocess.Popen([installed / "bin" / "rftoy", "serve", "--port", "0"], cwd=tmp_path, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        for line in process.stderr:  # each line uvicorn logs, until it says where it listens
            if found := RUNNING.search(line):
                break
        else:
            pytest.fail(f"rftoy serve exited with {process.wait()} before it listened")
        yield f"http://127.0.0.1:{found[1]}"
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_rftoy_serve_from_the_install_serves_the_page_and_the_shaders(served: str) -> None:
    page = httpx.get(f"{served}/", timeout=10)
    assert page.status_code == 200 and 'src="main.js"' in page.text
    assert page.text == (REPO / "web" / "index.html").read_text()
    shader = httpx.get(f"{served}/shaders/mlp.wgsl", timeout=10)
    assert shader.status_code == 200 and "fn " in shader.text
    assert httpx.get(f"{served}/main.js", timeout=10).status_code == 200
