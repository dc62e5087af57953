"""Order facts as ops read them, wherever they are shown (admin pages, the timeline, exports).

- CPF/CNPJ with their punctuation (``529.982.247-25``, ``11.222.333/0001-81``);
- the OS number without Omie's zero padding (``000000000001726`` → ``1726``);
- who did something by the person's name (``admin:paula`` → ``Paula Souza``), not the log's key.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from stdnum.br import cnpj, cpf


def document_display(document: str) -> str:
    if len(document) == 11:
        return cpf.format(document)
    if len(document) == 14:
        return cnpj.format(document)
    return document or "—"


def os_number_display(number: str) -> str:
    """Omie's cNumOS comes zero-padded to 15 digits; ops say and type the number without the zeros."""
    if not number:
        return ""
    return (number.lstrip("0") or "0") if number.isdigit() else number


def os_number_padded(number: str) -> str:
    """What ops type ("1726") as Omie stores it ("000000000001726"), for searches."""
    return number.zfill(15) if number.isdigit() else number


def admin_user_name(username: str) -> str:
    """The admin user's full name, else the username (a user deleted since keeps the username)."""
    user = get_user_model().objects.filter(username=username).first()
    return (user.get_full_name().strip() or username) if user is not None else username


def actor_display(actor: str) -> str:
    """'admin:paula' → 'Paula Souza', 'bubble:ana@x' → 'Bubble (ana@x)', 'system:billing' → 'Sistema'."""
    kind, _, who = actor.partition(":")
    if kind == "bubble":
        return f"Bubble ({who})" if who else "Bubble"
    if kind == "system":
        return "Sistema"
    if kind == "admin":
        return admin_user_name(who) if who else "admin"
    if actor == "pagarme":
        return "Pagar.me"
    return actor
