"""The C4 model (docs/architecture/workspace.dsl) and its diagrams stay in step.

`make c4` regenerates docs/architecture/c4/*.puml from the DSL and renders the SVGs; these tests fail
when someone edits the DSL and forgets it, edits a generated file by hand, or when the converter would
silently drop part of the model.
"""

import html
import importlib.util
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARCH = ROOT / "docs" / "architecture"


def _load_c4():
    spec = importlib.util.spec_from_file_location("c4_script", ROOT / "scripts" / "c4.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


c4 = _load_c4()
WORKSPACE = c4.parse((ARCH / "workspace.dsl").read_text(encoding="utf-8"))


def _svg_text(path: Path) -> str:
    """The visible text of an SVG, one string (PlantUML splits wrapped lines into <text> elements)."""
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", path.read_text(encoding="utf-8"))
    return " ".join(html.unescape(t) for t in texts)


def test_it_keeps_the_generated_diagram_sources_equal_to_what_the_dsl_gives():
    assert c4.stale_sources() == []


def test_it_draws_every_element_of_the_model_in_at_least_one_diagram():
    sources = "\n".join(p.read_text(encoding="utf-8") for p in (ARCH / "c4").glob("*.puml"))
    missing = [e.id for e in WORKSPACE.elements.values() if not re.search(rf"\({re.escape(e.id)}(_boundary)?,", sources)]
    assert missing == []


@pytest.mark.parametrize("view", WORKSPACE.views, ids=lambda v: v.key)
def test_each_rendered_svg_shows_every_element_of_its_view(view):
    svg = ARCH / f"{view.key}.svg"
    assert svg.exists(), f"{svg.name} missing: run `make c4`"
    text = _svg_text(svg)
    names = [WORKSPACE.elements[i].name for i in c4._visible(WORKSPACE, view)]
    # A long name may wrap; every word of it is still in the picture.
    missing = [n for n in names if not all(word in text for word in n.split())]
    assert missing == []


def test_it_has_no_rendered_svg_without_a_view():
    assert sorted(p.stem for p in ARCH.glob("*.svg")) == sorted(v.key for v in WORKSPACE.views)


def test_it_draws_a_relationship_to_an_inner_element_between_the_elements_a_view_shows():
    ws = c4.parse(
        """workspace "W" "d" {
            model {
                u = person "U" "a user"
                s = softwareSystem "S" "ours" {
                    c = container "C" "app" "Django" {
                        k = component "K" "does it" "mod"
                    }
                    d = container "D" "db" "PostgreSQL" "Database"
                }
                x = softwareSystem "X" "theirs" "External"
                u -> k "Uses" "HTTPS"
                u -> c "Second, not drawn in the context view"
                k -> x "Calls"
                k -> d "Writes" "SQL"
            }
            views {
                systemContext s "ctx" {
                    include *
                    autoLayout lr
                }
                component c "cmp" {
                    include *
                }
            }
        }"""
    )
    context, component = (c4.to_puml(ws, v) for v in ws.views)
    assert 'Rel(u, s, "Uses", "HTTPS")' in context
    assert "Second" not in context
    assert 'Rel(k, x, "Calls")' not in context and 'Rel(s, x, "Calls")' in context
    assert "System_Ext(x," in context and "Container(" not in context
    assert 'Rel(k, d, "Writes", "SQL")' in component and "ContainerDb(d," in component
    assert "LAYOUT_TOP_DOWN()" in component


@pytest.mark.parametrize(
    "line",
    [
        'deploymentEnvironment "Live" {',  # a construct the converter does not draw
        'a = container "C" "inside the model, outside a system" "x"',
        "!include other.dsl",
    ],
)
def test_it_refuses_dsl_it_would_otherwise_leave_out_of_the_diagrams(line):
    text = f'workspace "W" {{\n model {{\n  {line}\n }}\n}}\n'
    with pytest.raises(c4.DslError):
        c4.parse(text)
