"""Removes a staff user's authenticator and recovery codes (a lost or replaced phone).

With ADMIN_REQUIRE_2FA, the person's next login, after the password, leads to the enrolment page
again (a new QR code and new recovery codes). Confirm who is asking before running it: whoever holds
the password and logs in first after a reset enrols their own phone.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from common.twofa.services import twofa_reset


class Command(BaseCommand):
    help = "Apaga o autenticador e os códigos de recuperação de um usuário: no próximo login ele cadastra o celular de novo."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: object, username: str, **options: object) -> None:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"Nenhum usuário chamado {username!r}.")
        removed = twofa_reset(user=user)
        if not removed:
            self.stdout.write(f"{username} não tinha verificação em duas etapas cadastrada; nada a apagar.")
            return
        self.stdout.write(
            f"Verificação em duas etapas de {username} apagada. No próximo login, depois da senha, "
            "o backoffice mostra o QR code para cadastrar o celular novo."
        )
