"""The C4 model: docs/architecture/workspace.dsl → C4-PlantUML sources → SVG diagrams.

    python scripts/c4.py puml      # write docs/architecture/c4/<view>.puml from the DSL
    python scripts/c4.py check     # exit 1 when a committed .puml is not what the DSL gives
    python scripts/c4.py render --jar plantuml.jar   # puml, then docs/architecture/<view>.svg

The Structurizr DSL file is the model (the format Structurizr's own tools read); its CLI cannot be
installed here, so this converter reads the part of the DSL that workspace.dsl uses — people,
software systems, containers, components, relationships, and systemContext / container / component
views with ``include *`` or ``include <id>`` and ``autoLayout`` — and writes one C4-PlantUML file
per view. Anything else in the model or views section stops it with the line number, so the DSL
never silently says more than the diagrams show. Relationships declared between inner elements are
drawn between the elements a view shows (Structurizr's "implied relationships": the first one
declared between two shown elements is drawn, later ones are not). PlantUML itself (with the C4
library it ships) does the layout and the SVG: `make c4`.
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARCH = ROOT / "docs" / "architecture"
DSL = ARCH / "workspace.dsl"
PUML_DIR = ARCH / "c4"

ELEMENT_ARGS = {"person": 2, "softwareSystem": 2, "container": 3, "component": 3}  # name, description[, technology]
PARENT_KIND = {"person": None, "softwareSystem": None, "container": "softwareSystem", "component": "container"}


class DslError(ValueError):
    pass


@dataclass
class Element:
    id: str
    kind: str
    name: str
    description: str = ""
    technology: str = ""
    tags: list[str] = field(default_factory=list)
    parent: str | None = None


@dataclass
class Relationship:
    source: str
    destination: str
    description: str = ""
    technology: str = ""


@dataclass
class View:
    kind: str  # systemContext | container | component
    scope: str
    key: str
    description: str = ""
    includes: list[str] = field(default_factory=list)
    layout: str = "tb"


@dataclass
class Workspace:
    name: str = ""
    description: str = ""
    elements: dict[str, Element] = field(default_factory=dict)
    relationships: list[Relationship] = field(default_factory=list)
    views: list[View] = field(default_factory=list)

    def ancestors(self, element_id: str) -> list[str]:
        """The element and its parents, innermost first."""
        chain = [element_id]
        while (parent := self.elements[chain[-1]].parent) is not None:
            chain.append(parent)
        return chain


def parse(text: str) -> Workspace:
    ws = Workspace()
    stack: list[tuple[str, str | None]] = []  # (block kind, element or view id)
    current_view: View | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#") or line.startswith("//"):
            continue
        try:
            words = shlex.split(line, comments=False, posix=True)
        except ValueError as exc:
            raise DslError(f"line {number}: {exc}") from exc
        opens = words[-1] == "{"
        if opens:
            words = words[:-1]
        where = stack[-1][0] if stack else None

        if words == ["}"]:
            if not stack:
                raise DslError(f"line {number}: unbalanced }}")
            kind, _ = stack.pop()
            if kind == "view":
                current_view = None
            continue
        if where is None and words[:1] == ["workspace"]:
            ws.name, ws.description = ([*words[1:], "", ""])[:2]
            stack.append(("workspace", None))
            continue
        if where == "workspace" and words in (["model"], ["views"]):
            stack.append((words[0], None))
            continue
        if where in ("styles", "style"):  # styles only colour Structurizr's own renderings
            if opens:
                stack.append(("style", None))
            continue
        if where in ("model", "softwareSystem", "container") and len(words) >= 3 and words[1] == "=":
            ident, kind, args = words[0], words[2], words[3:]
            if kind not in ELEMENT_ARGS or PARENT_KIND[kind] != (where if where != "model" else None):
                raise DslError(f"line {number}: {kind!r} is not allowed inside {where}")
            if ident in ws.elements:
                raise DslError(f"line {number}: duplicate identifier {ident!r}")
            n = ELEMENT_ARGS[kind]
            values = (args + [""] * n)[:n]
            element = Element(id=ident, kind=kind, name=values[0], description=values[1],
                              technology=values[2] if n == 3 else "",
                              tags=[t.strip() for t in ",".join(args[n:]).split(",") if t.strip()],
                              parent=stack[-1][1] if where != "model" else None)
            ws.elements[ident] = element
            if opens:
                stack.append((kind, ident))
            continue
        if where in ("model", "softwareSystem", "container") and len(words) >= 3 and words[1] == "->":
            desc, tech = ([*words[3:], "", ""])[:2]
            ws.relationships.append(Relationship(words[0], words[2], desc, tech))
            continue
        if where == "views" and words[:1] == ["styles"]:
            stack.append(("styles", None))
            continue
        if where == "views" and words[:1] and words[0] in ("systemContext", "container", "component") and opens:
            key, desc = ([*words[2:], "", ""])[:2]
            current_view = View(kind=words[0], scope=words[1], key=key or f"{words[0]}-{words[1]}", description=desc)
            ws.views.append(current_view)
            stack.append(("view", None))
            continue
        if where == "view" and current_view is not None:
            if words[0] == "include":
                current_view.includes.extend(words[1:])
                continue
            if words[0].lower() == "autolayout":
                current_view.layout = (words[1:] or ["tb"])[0].lower()
                continue
        raise DslError(f"line {number}: not understood here ({where or 'top level'}): {line}")
    if stack:
        raise DslError("unclosed block at the end of the file")
    for rel in ws.relationships:
        for end in (rel.source, rel.destination):
            if end not in ws.elements:
                raise DslError(f"relationship {rel.source} -> {rel.destination}: unknown element {end!r}")
    for view in ws.views:
        if view.scope not in ws.elements:
            raise DslError(f"view {view.key}: unknown scope {view.scope!r}")
    return ws


def _visible(ws: Workspace, view: View) -> list[str]:
    """The elements a view shows, in declaration order (Structurizr's ``include *`` rules): the
    scope's children (or the scope itself in a context view) and what is directly connected to them."""
    inner = [view.scope] if view.kind == "systemContext" else [e.id for e in ws.elements.values() if e.parent == view.scope]
    shown = set(inner)
    if "*" in view.includes:
        for rel in ws.relationships:
            for a, b in ((rel.source, rel.destination), (rel.destination, rel.source)):
                if set(ws.ancestors(a)) & set(inner):
                    other = _lift(ws, view, b, inner)
                    if other is not None and other not in inner:
                        shown.add(other)
    shown.update(i for i in view.includes if i != "*")
    return [e for e in ws.elements if e in shown]


def _lift(ws: Workspace, view: View, element_id: str, inner: list[str]) -> str | None:
    """The element a view draws for ``element_id``: itself or the nearest shown ancestor."""
    chain = ws.ancestors(element_id)
    for candidate in chain:
        if candidate in inner:
            return candidate
    top = chain[-1]
    if view.kind == "component":
        system = ws.elements[view.scope].parent
        if system in chain:  # another container of the same software system
            return next(c for c in chain if ws.elements[c].kind == "container")
    if view.kind in ("container", "component") and top == (view.scope if view.kind == "container" else ws.elements[view.scope].parent):
        return None
    return top


def _relationships(ws: Workspace, view: View, shown: list[str]) -> list[Relationship]:
    inner = {e.id for e in ws.elements.values() if e.parent == view.scope} or {view.scope}
    if view.kind == "systemContext":
        inner = {view.scope}
    drawn: dict[tuple[str, str], Relationship] = {}
    for rel in ws.relationships:
        a, b = _lift(ws, view, rel.source, list(inner)), _lift(ws, view, rel.destination, list(inner))
        if a is None or b is None or a == b or a not in shown or b not in shown:
            continue
        if view.kind == "component" and a not in inner and b not in inner:
            continue  # a component view draws what touches its components
        drawn.setdefault((a, b), Relationship(a, b, rel.description, rel.technology))
    return list(drawn.values())


def _q(text: str) -> str:
    return '"' + text.replace('"', "'") + '"'


def _macro(ws: Workspace, view: View, element: Element) -> str:
    external = "External" in element.tags
    if element.kind == "person":
        return f"Person({element.id}, {_q(element.name)}, {_q(element.description)})"
    if element.kind == "softwareSystem":
        return f"System{'_Ext' if external else ''}({element.id}, {_q(element.name)}, {_q(element.description)})"
    base = "Container" if element.kind == "container" else "Component"
    if "Database" in element.tags:
        base += "Db"
    elif "Queue" in element.tags:
        base += "Queue"
    return f"{base}({element.id}, {_q(element.name)}, {_q(element.technology)}, {_q(element.description)})"


def to_puml(ws: Workspace, view: View) -> str:
    library = {"systemContext": "C4_Context", "container": "C4_Container", "component": "C4_Component"}[view.kind]
    shown = _visible(ws, view)
    lines = [
        f"@startuml {view.key}",
        f"' Generated by scripts/c4.py from docs/architecture/workspace.dsl (view {view.key!r}): edit the DSL, then `make c4`.",
        "!pragma layout smetana",
        f"!include <C4/{library}>",
        "skinparam wrapWidth 230",
        "LAYOUT_LEFT_RIGHT()" if view.layout == "lr" else "LAYOUT_TOP_DOWN()",
        f"title {ws.name}: {view.description}" if view.description else f"title {ws.name}",
        "",
    ]
    scope = ws.elements[view.scope]
    inner = [e for e in shown if ws.elements[e].parent == view.scope and view.kind != "systemContext"]
    outer = [e for e in shown if e not in inner]
    for ident in outer:
        lines.append(_macro(ws, view, ws.elements[ident]))
    if inner:
        boundary = "System_Boundary" if scope.kind == "softwareSystem" else "Container_Boundary"
        lines.append(f"{boundary}({scope.id}_boundary, {_q(scope.name)}) {{")
        lines.extend("  " + _macro(ws, view, ws.elements[i]) for i in inner)
        lines.append("}")
    lines.append("")
    for rel in _relationships(ws, view, shown):
        args = [rel.source, rel.destination, _q(rel.description)] + ([_q(rel.technology)] if rel.technology else [])
        lines.append(f"Rel({', '.join(args)})")
    lines += ["", "SHOW_LEGEND()", "@enduml", ""]
    return "\n".join(lines)


def expected_sources(dsl: Path = DSL) -> dict[str, str]:
    ws = parse(dsl.read_text(encoding="utf-8"))
    return {f"{view.key}.puml": to_puml(ws, view) for view in ws.views}


def write_sources() -> list[Path]:
    PUML_DIR.mkdir(parents=True, exist_ok=True)
    wanted = expected_sources()
    for stale in PUML_DIR.glob("*.puml"):
        if stale.name not in wanted:
            stale.unlink()
    paths = []
    for name, text in wanted.items():
        path = PUML_DIR / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def stale_sources() -> list[str]:
    wanted = expected_sources()
    have = {p.name: p.read_text(encoding="utf-8") for p in PUML_DIR.glob("*.puml")}
    return sorted({n for n in wanted if have.get(n) != wanted[n]} | (set(have) - set(wanted)))


def render(jar: Path) -> None:
    paths = write_sources()
    # -o is relative to each source's folder: the SVGs land beside workspace.dsl.
    subprocess.run(["java", "-Djava.awt.headless=true", "-jar", str(jar), "-tsvg", "-charset", "UTF-8", "-o", "..",
                    *[str(p) for p in paths]], check=True)
    for svg in ARCH.glob("*.svg"):
        if f"{svg.stem}.puml" not in {p.name for p in paths}:
            svg.unlink()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("puml")
    sub.add_parser("check")
    r = sub.add_parser("render")
    r.add_argument("--jar", type=Path, required=True, help="plantuml.jar")
    args = parser.parse_args()
    if args.command == "puml":
        for path in write_sources():
            print(path.relative_to(ROOT))
    elif args.command == "check":
        stale = stale_sources()
        if stale:
            print("out of step with workspace.dsl (run `make c4`): " + ", ".join(stale), file=sys.stderr)
            return 1
    else:
        render(args.jar)
    return 0


if __name__ == "__main__":
    sys.exit(main())
