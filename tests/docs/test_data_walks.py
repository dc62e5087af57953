"""The four walks of docs/architecture.md ("Follow the data") match the code.

Each walk is a numbered list of file entries, one per line: `` `path/to/file.py` · `function`, `Class.method` ``
(the functions used on that visit), with the Celery hops between them on their own line:
`` ⇢ Celery `task.name` from `path/to/file.py` · `publisher` `` (or "from beat"). Each walk ends with
its count line, `Files: N · entered twice: a.py, b.py` (or "none"). This test keeps every named file,
function and publisher existing and every task registered, recomputes the count line from the steps,
and holds the walks to the house rule — at most eight production files per walk and no file entered
twice (a walk that leaves a file and comes back to it is a tour, not a flow) — except the walks listed
in KNOWN_MISSES, with the reason; an entry that no longer misses fails too, so the list only shrinks.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARCHITECTURE = ROOT / "docs" / "architecture.md"
SECTION = "## Follow the data"
STEP = re.compile(r"^\d+\.\s+`(?P<file>[\w/]+\.py)`\s+·\s+(?P<symbols>`[\w.]+`(?:,\s*`[\w.]+`)*)")
HOP = re.compile(r"^\s*⇢ Celery `(?P<task>[\w.]+)` from (?:`(?P<file>[\w/]+\.py)` · `(?P<symbol>[\w.]+)`|beat)")
COUNT = re.compile(r"^Files: (?P<files>\d+) · entered twice: (?P<twice>.+)$")
MAX_FILES = 8

# Walks that miss the house target today, and why. Fix the flow, then delete the entry.
KNOWN_MISSES = {
    "2. Day-25 run → FaturarOS → NFS-e issued → Bubble": (
        "three processes take part (the run, the emission steps, the ListarNFSEs confirmation) and each goes back "
        "through the Omie client, the emission module and the state module; the Bubble outbox is written in one "
        "task and delivered by another"
    ),
}


@dataclass
class Walk:
    title: str
    steps: list[tuple[str, str]] = field(default_factory=list)
    hops: list[str] = field(default_factory=list)
    publishers: list[tuple[str, str]] = field(default_factory=list)
    legs: list[int] = field(default_factory=list)  # per step: how many Celery hops came before it
    count_line: tuple[int, str] | None = None

    def files_in_order(self) -> list[str]:
        """The files as the walk enters them: consecutive steps in one file are one visit, unless a
        Celery hop separates them (the next task enters the file again)."""
        visits: list[str] = []
        previous: tuple[str, int] | None = None
        for (path, _), leg in zip(self.steps, self.legs, strict=True):
            if previous != (path, leg):
                visits.append(path)
            previous = (path, leg)
        return visits

    def entered_twice(self) -> list[str]:
        visits = self.files_in_order()
        return sorted({path for path in visits if visits.count(path) > 1})

    def meets_target(self) -> bool:
        return len(set(self.files_in_order())) <= MAX_FILES and not self.entered_twice()


def parse_walks(text: str) -> list[Walk]:
    start = text.index(SECTION) + len(SECTION)
    end = text.find("\n## ", start)
    walks: list[Walk] = []
    for line in text[start : end if end != -1 else None].splitlines():
        if line.startswith("### "):
            walks.append(Walk(title=line[4:].strip()))
        elif walks and (step := STEP.match(line.strip())):
            symbols = re.findall(r"`([\w.]+)`", step["symbols"])
            walks[-1].steps.extend((step["file"], symbol) for symbol in symbols)
            walks[-1].legs.extend([len(walks[-1].hops)] * len(symbols))
        elif walks and (hop := HOP.match(line)):
            walks[-1].hops.append(hop["task"])
            if hop["file"]:
                walks[-1].publishers.append((hop["file"], hop["symbol"]))
        elif walks and (count := COUNT.match(line.strip())):
            walks[-1].count_line = (int(count["files"]), count["twice"].strip())
    return walks


def defined_symbols(path: Path) -> set[str]:
    """Top-level functions and classes, and `Class.method` for methods."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.ClassDef):
            names.add(node.name)
            names.update(
                f"{node.name}.{item.name}" for item in node.body if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))
            )
    return names


WALKS = parse_walks(ARCHITECTURE.read_text(encoding="utf-8"))


def test_the_four_walks_are_written():
    assert len(WALKS) == 4
    assert all(walk.steps and walk.hops for walk in WALKS), "each walk names its steps and marks its Celery hops"


@pytest.mark.parametrize("walk", WALKS, ids=lambda w: w.title)
def test_every_step_names_a_function_that_exists(walk):
    missing = []
    for path, symbol in [*walk.steps, *walk.publishers]:
        source = ROOT / path
        if not source.exists() or symbol not in defined_symbols(source):
            missing.append(f"{path} · {symbol}")
    assert missing == []


@pytest.mark.parametrize("walk", WALKS, ids=lambda w: w.title)
def test_every_celery_hop_is_a_registered_task(walk):
    from config.celery import app

    app.loader.import_default_modules()
    assert [task for task in walk.hops if task not in app.tasks] == []


@pytest.mark.parametrize("walk", WALKS, ids=lambda w: w.title)
def test_the_count_line_is_what_the_steps_say(walk):
    twice = ", ".join(walk.entered_twice()) or "none"
    assert walk.count_line == (len(set(walk.files_in_order())), twice)


@pytest.mark.parametrize("walk", WALKS, ids=lambda w: w.title)
def test_a_walk_touches_few_files_and_enters_none_twice(walk):
    if walk.title in KNOWN_MISSES:
        assert not walk.meets_target(), f"{walk.title} now meets the target: delete it from KNOWN_MISSES"
        return
    visits = walk.files_in_order()
    assert len(set(visits)) <= MAX_FILES, visits
    assert walk.entered_twice() == [], f"a file entered twice: {visits}"


def test_every_known_miss_names_a_walk():
    assert set(KNOWN_MISSES) <= {walk.title for walk in WALKS}


def test_the_rules_catch_a_walk_that_breaks_them():
    """The checks above are not vacuous: a walk that comes back to a file, or names a ghost, fails them."""
    text = (
        f"{SECTION}\n\n### tour\n"
        "1. `orders/apis.py` · `nothing_here`\n"
        "   ⇢ Celery `no.such.task` from `orders/services/sync_chain.py` · `order_sync_enqueue`\n"
        "2. `orders/services/triggers.py` · `order_sync_trigger`, `_log_repeat`\n"
        "3. `orders/apis.py` · `nothing_here`\n"
        "\nFiles: 2 · entered twice: none\n"
    )
    (walk,) = parse_walks(text)
    assert walk.entered_twice() == ["orders/apis.py"] and not walk.meets_target()
    assert walk.count_line == (2, "none")  # the line lies: test_the_count_line_is_what_the_steps_say would fail
    assert "nothing_here" not in defined_symbols(ROOT / "orders/apis.py")
    assert walk.hops == ["no.such.task"]
    assert ("orders/services/triggers.py", "_log_repeat") in walk.steps
