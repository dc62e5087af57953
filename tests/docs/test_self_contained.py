"""The repository stands on its own: no tracked file cites the old external specification or fact
sheets (a spec section, a `reference/….md` file, or a path into a `shared` folder beside the
repository). What the code implements is written in docs/ — docs/contract.md, docs/omie.md#evidence,
docs/integrations.md#evidence, docs/architecture.md — and comments point there.

This is the guard after merges: a branch written against the old citations fails here; run
`python scripts/cite_rewrite.py` and fix by hand what it prints.
"""

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SPEC = "SP" + "EC"  # spelled in pieces, like the paths below, so a plain grep of the tree finds nothing here
SHARED = "../" + "shared"
CITATIONS = [
    re.compile(rf"\b{SPEC}\b"),  # the old spec by name, with its section sign or as a file name
    re.compile(re.escape(SHARED) + r"\b"),
    re.compile(r"\breference/[\w.-]+\.md\b"),
    re.compile(r"\breference (?:§|[A-E]\d)"),  # "reference §8", "reference C3"
]
# This file spells the patterns it looks for.
EXEMPT = {"tests/docs/test_self_contained.py"}
BINARY = {".png", ".jpg", ".jpeg", ".gif", ".ico", ".svg", ".woff", ".woff2", ".gz", ".zip", ".pdf"}


def tracked_files() -> list[str]:
    out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return [name for name in out.splitlines() if name not in EXEMPT and Path(name).suffix.lower() not in BINARY]


def citations_in(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if any(p.search(line) for p in CITATIONS)]


def test_the_guard_recognises_each_kind_of_outside_citation():
    sample = "\n".join([
        f'"""Sync steps 3 to 5 ({SPEC} §5.1)."""',
        f"The contract is [the spec]({SHARED}/{SPEC}.md).",
        "# Omie (" + "reference/" + "omie.md §3.2)",
        "BrasilAPI answers false 404s (reference C3)",
        "See docs/contract.md#sync and docs/omie.md#evidence; SPECTACULAR_SETTINGS = {}",
    ])
    assert len(citations_in(sample)) == 4


def test_no_tracked_file_cites_the_outside_spec_or_fact_sheets():
    found = []
    for name in tracked_files():
        path = ROOT / name
        if not path.is_file():
            continue  # deleted in the work tree, not yet in the index
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        found += [f"{name}: {line}" for line in citations_in(text)]
    assert found == [], "cite docs/ instead:\n" + "\n".join(found)
