"""Readers for the deployment files the tests check: config/'s env reads, .env.example, the compose file."""

from __future__ import annotations

import ast
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent.parent
NO_DEFAULT = object()


@dataclass(frozen=True)
class EnvRead:
    name: str
    method: str  # "str", "int", "bool", "list", ... ("" for env("X"))
    default: Any  # a Python literal, or NO_DEFAULT when absent or not a literal
    where: str


def env_reads() -> dict[str, EnvRead]:
    """Every ``env.<method>("NAME", ...)`` / ``env("NAME")`` in config/, by name (first read wins)."""
    reads: dict[str, EnvRead] = {}
    for path in sorted((ROOT / "config").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if not (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)):
                continue
            func = node.func
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "env":
                method = func.attr
            elif isinstance(func, ast.Name) and func.id == "env":
                method = ""
            else:
                continue
            name = node.args[0].value
            if not isinstance(name, str):
                continue
            default: Any = NO_DEFAULT
            for keyword in node.keywords:
                if keyword.arg == "default":
                    try:
                        default = ast.literal_eval(keyword.value)
                    except ValueError:
                        default = NO_DEFAULT
            reads.setdefault(name, EnvRead(name, method, default, f"{path.relative_to(ROOT)}:{node.lineno}"))
    return reads


def production_required() -> tuple[list[str], list[str]]:
    """REQUIRED_VARIABLES and REQUIRED_UNLESS_SANDBOX from config/django/production.py (read, not imported:
    importing it raises without the variables)."""
    tree = ast.parse((ROOT / "config" / "django" / "production.py").read_text())
    found: dict[str, list[str]] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            if node.targets[0].id in {"REQUIRED_VARIABLES", "REQUIRED_UNLESS_SANDBOX"}:
                found[node.targets[0].id] = list(ast.literal_eval(node.value))
    return found["REQUIRED_VARIABLES"], found["REQUIRED_UNLESS_SANDBOX"]


@dataclass(frozen=True)
class ExampleLine:
    name: str
    value: str
    commented: bool


_EXAMPLE_LINE = re.compile(r"^(#\s?)?([A-Z][A-Z0-9_]*)=(.*)$")


def env_example() -> dict[str, ExampleLine]:
    lines: dict[str, ExampleLine] = {}
    for raw in (ROOT / ".env.example").read_text().splitlines():
        match = _EXAMPLE_LINE.match(raw.strip())
        if match:
            name = match.group(2)
            assert name not in lines, f".env.example lists {name} twice"
            lines[name] = ExampleLine(name, match.group(3), commented=bool(match.group(1)))
    return lines


def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


_INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)((?::?[-?+])([^{}]*(?:\{[^{}]*\}[^{}]*)*))?\}")


def interpolated_names(text: str) -> set[str]:
    """Every variable compose interpolates (``${NAME}``, ``${NAME:-default}``, nested ones too); ``$$`` is a literal $."""
    text = text.replace("$$", "")
    names: set[str] = set()
    for match in re.finditer(r"\$\{([A-Za-z_][A-Za-z0-9_]*)", text):
        names.add(match.group(1))
    return names


def compose_default(expression: str) -> str | None:
    """The default in ``${NAME:-default}`` (None when there is none or the value is required)."""
    match = _INTERPOLATION.fullmatch(expression.strip())
    if not match or not match.group(2) or "-" not in match.group(2)[:2]:
        return None
    return match.group(3)


def tool(name: str) -> str:
    """A Debian tool the tests need; fails (never skips) when it is missing."""
    path = shutil.which(name) or (f"/usr/sbin/{name}" if Path(f"/usr/sbin/{name}").exists() else None)
    if path is None:
        pytest.fail(f"{name} is not installed: `apt-get install -y {name}` (`make test` does it when run as root)")
    return path


@dataclass
class Stage:
    base: str
    workdir: str = "/"
    user: str = "root"
    copies: list[tuple[str, str]] | None = None  # (source in the build context, destination)
    runs: list[str] | None = None


def dockerfile_stages() -> dict[str, Stage]:
    """The stages of docker/Dockerfile by target name: base image, WORKDIR, USER, COPY (from the context), RUN."""
    text = (ROOT / "docker" / "Dockerfile").read_text().replace("\\\n", " ")
    args = dict(re.findall(r"^ARG (\w+)=(\S+)", text, flags=re.M))
    stages: dict[str, Stage] = {}
    current: Stage | None = None
    for line in text.splitlines():
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        instruction = words[0].upper()
        if instruction == "FROM":
            base = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], words[1])
            current = Stage(base=base, copies=[], runs=[])
            stages[words[3] if len(words) > 3 and words[2].upper() == "AS" else base] = current
        elif current is None:
            continue
        elif instruction == "WORKDIR":
            current.workdir = words[1]
        elif instruction == "USER":
            current.user = words[1]
        elif instruction == "COPY" and not any(w.startswith("--from") for w in words):
            sources = [w for w in words[1:] if not w.startswith("--")]
            current.copies.append((sources[0], sources[-1]))  # type: ignore[union-attr]
        elif instruction == "RUN":
            current.runs.append(" ".join(words[1:]))  # type: ignore[union-attr]
    return stages


def repo_path(stage: Stage, container_path: str) -> Path | None:
    """Where a path inside the image comes from in this repository (None when no COPY provides it)."""
    import posixpath

    def absolute_in_image(path: str) -> str:
        return posixpath.normpath(posixpath.join(stage.workdir, path))

    absolute = absolute_in_image(container_path)
    for source, raw_destination in reversed(stage.copies or []):
        destination = absolute_in_image(raw_destination)
        if source == ".":
            prefix = destination.rstrip("/") + "/"
            if absolute.startswith(prefix):
                return ROOT / absolute[len(prefix):]
        elif source.endswith("/") and absolute.startswith(destination.rstrip("/") + "/"):
            return ROOT / source / absolute[len(destination.rstrip("/")) + 1:]
    return None


def load_script(relative: str) -> Any:
    """Imports a script of docker/ (not a package) as a module."""
    import importlib.util

    path = ROOT / relative
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
