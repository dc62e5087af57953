"""What a check answers: per system, items with a verdict, what was tried, what came back, what to fix."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

OK, WARNING, ERROR, SKIPPED = "ok", "warning", "error", "skipped"
VERDICT_LABELS = {OK: "ok", WARNING: "atenção", ERROR: "erro", SKIPPED: "não verificável"}
_RANK = {SKIPPED: 0, OK: 1, WARNING: 2, ERROR: 3}


@dataclass
class Item:
    """One verification. ``skipped``: nothing could be verified (no read call exists, or not asked)."""

    name: str
    verdict: str
    tried: str
    got: str
    fix: str = ""

    @property
    def verdict_label(self) -> str:
        return VERDICT_LABELS[self.verdict]


@dataclass
class SystemReport:
    system: str
    items: list[Item] = field(default_factory=list)

    def add(self, name: str, verdict: str, tried: str, got: str, fix: str = "") -> Item:
        item = Item(name=name, verdict=verdict, tried=tried, got=got, fix=fix if verdict != OK else "")
        self.items.append(item)
        return item

    @property
    def verdict(self) -> str:
        ranked = [i.verdict for i in self.items if i.verdict != SKIPPED] or [OK]
        return max(ranked, key=_RANK.__getitem__)

    @property
    def verdict_label(self) -> str:
        return VERDICT_LABELS[self.verdict]


@dataclass
class Report:
    systems: list[SystemReport] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        return max((s.verdict for s in self.systems), key=_RANK.__getitem__, default=OK)

    @property
    def errors(self) -> list[tuple[str, Item]]:
        return [(s.system, i) for s in self.systems for i in s.items if i.verdict == ERROR]

    @property
    def exit_code(self) -> int:
        return 1 if self.verdict == ERROR else 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "systems": [
                {"system": s.system, "verdict": s.verdict, "items": [asdict(i) for i in s.items]} for s in self.systems
            ],
        }

    def as_json(self) -> str:
        return json.dumps(self.as_dict(), ensure_ascii=False, indent=2)

    def as_text(self) -> str:
        lines = []
        for s in self.systems:
            lines.append(f"{s.system}: {s.verdict_label.upper()}")
            for i in s.items:
                lines.append(f"  [{i.verdict_label}] {i.name}")
                lines.append(f"      tentado: {i.tried}")
                lines.append(f"      resposta: {i.got}")
                if i.fix:
                    lines.append(f"      como corrigir: {i.fix}")
        lines.append(f"Resultado geral: {VERDICT_LABELS[self.verdict].upper()}")
        return "\n".join(lines)
