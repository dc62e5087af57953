"""What must never reach an ops person's screen: the maintained list of English admin strings and the
patterns of developer text (raw field keys, dotted Python paths, permission codenames, money not in
``R$ 1.234,56`` form, capitalised months).

One module, read by the fast admin test (backoffice/tests/test_ops_language.py, Django's test client)
and meant for the headless-Chromium walk as well: ``ops_text_problems(visible_text)`` returns what
is wrong, ``visible_text(html)`` takes a page's HTML to the text a person sees (no tags, scripts,
styles or attribute values). When a new English string slips through, add it here.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

# English (or half-translated) strings from Django, the Celery admins and our own code that ops met.
FORBIDDEN_STRINGS: tuple[str, ...] = (
    "CELERY RESULTS", "Celery Results", "PERIODIC TASKS", "Periodic Tasks", "periodic task", "Periodic task",
    "Clocked", "Crontabs", "Intervals", "Solar events", "Task State", "Task results", "Group results", "Task Name",
    "Task ID", "Select periodic", "403 Forbidden", "Forbidden", "Page not found", "Server Error",
    "Campo inválido: justification", "Campo inválido: reason", "Campo inválido: amount", "Sem a permissão",
    "NCodOS", "nCodOS", "cCodIntOS", "Faturamento: Imediato; Agendado", "O configuração", "Traceback",
    "None", "True", "False",
    # Met on the superuser's pages (issue 24): axes, django-otp, Django's permission names, beat's schedules,
    # the lockout and error pages, half-lower-cased task labels, the CPF/CNPJ help text.
    "Access attempts", "Access failures", "Access logs", "Access Log", "Access Attempt", "Failed Logins", "Account locked",
    "too many login attempts", "OTP_TOTP", "TOTP device", "Can add", "Can change", "Can delete", "Can view",
    "Outstanding Token", "Blacklisted Token", "(m/h/dM/MY/d)", "At 07:00", "on day", "of the month", "Internal Server Error",
    "Not Found", "a os ao omie", "Somente caracteres, em maiúsculas",
    # The timeline's webhook lines as they were (topic, status code, message id, payload format).
    "Webhook OrdemServico", "Webhook NFSe", "· formato connect2", "· formato legado",
)

# Patterns of developer text. Each entry: (what it is, the regular expression over the visible text).
FORBIDDEN_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    # a raw key shown as "key = value" (the timeline's writebacks used to)
    ("chave crua", re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+ = ")),
    # a dotted Python path: orders.tasks.order_sync_fetch, billing.cancel_nf, integrations.bubble…
    ("caminho Python", re.compile(r"\b(?:orders|billing|integrations|backoffice|common|config|django_celery_\w+|celery)"
                                  r"\.[a-z_]+(?:\.[a-z_]+)*\b")),
    # money not in R$ 1.234,56 form: "R$ 0.00", "R$1000,50", "R$ 1000,50"
    ("valor fora do formato R$ 1.234,56", re.compile(r"R\$(?! \d{1,3}(?:\.\d{3})*,\d{2}\b)\s?-?[\d.,]+")),
    # months in capitals after "de" (Portuguese writes "29 de novembro")
    ("mês com inicial maiúscula", re.compile(r"\bde (?:Janeiro|Fevereiro|Março|Abril|Maio|Junho|Julho|Agosto|Setembro|"
                                           r"Outubro|Novembro|Dezembro)\b")),
)

# Text that legitimately contains something a pattern would flag (e.g. the e-mail of a demo user is
# not a path); kept short and explicit.
ALLOWED_SNIPPETS: tuple[str, ...] = ()

_WORD_STRINGS = {"None", "True", "False", "Forbidden", "Traceback"}


class _TextExtractor(HTMLParser):
    SKIP = {"script", "style", "template", "noscript"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self._skip += 1
        if tag in {"br", "p", "div", "li", "tr", "td", "th", "h1", "h2", "h3", "option"}:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    """The text a person sees on the page (roughly: no markup, scripts, styles or attributes)."""
    parser = _TextExtractor()
    parser.feed(html)
    return re.sub(r"[ \t]+", " ", "".join(parser.parts))


def ops_text_problems(text: str) -> list[str]:
    """Every forbidden string or pattern found in ``text`` (visible text), as "what: excerpt"."""
    for snippet in ALLOWED_SNIPPETS:
        text = text.replace(snippet, "")
    problems = []
    for needle in FORBIDDEN_STRINGS:
        if needle in _WORD_STRINGS:
            found = re.search(rf"\b{re.escape(needle)}\b", text)
        else:
            found = re.search(re.escape(needle), text)
        if found:
            problems.append(f"texto proibido {needle!r}: …{_around(text, found.start(), found.end())}…")
    for what, pattern in FORBIDDEN_PATTERNS:
        for found in pattern.finditer(text):
            problems.append(f"{what}: …{_around(text, found.start(), found.end())}…")
    return problems


def _around(text: str, start: int, end: int, margin: int = 40) -> str:
    return text[max(0, start - margin): end + margin].replace("\n", " ")
