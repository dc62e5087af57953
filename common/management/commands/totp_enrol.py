"""Enrols a user's authenticator app for the admin's two-factor login (docs/security.md).

Prints the otpauth:// URI and a QR code to scan; the code the app then shows is checked before the
device is kept, so a mistyped scan never locks anyone out. ``--replace`` removes the user's other
TOTP devices (a lost phone).
"""

from __future__ import annotations

import io

import segno
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from common.twofa.services import recovery_codes_issue


class Command(BaseCommand):
    help = "Cadastra o autenticador (TOTP) de um usuário para o login do admin em duas etapas."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--replace", action="store_true", help="remove os outros autenticadores do usuário")
        parser.add_argument("--code", help="o código que o aplicativo mostra (pedido interativamente se omitido)")
        parser.add_argument("--no-qr", action="store_true", help="só a URI otpauth://, sem o QR no terminal")

    def handle(self, *args: object, username: str, replace: bool, code: str | None, no_qr: bool, **options: object) -> None:
        try:
            user = get_user_model().objects.get(username=username, is_active=True)
        except get_user_model().DoesNotExist as exc:
            raise CommandError(f"Nenhum usuário ativo chamado {username!r}.") from exc
        with transaction.atomic():
            if replace:
                TOTPDevice.objects.filter(user=user).delete()
            device = TOTPDevice.objects.create(user=user, name="autenticador", confirmed=False)
            self.stdout.write(f"URI (adicione no aplicativo autenticador): {device.config_url}")
            if not no_qr:
                out = io.StringIO()
                segno.make(device.config_url).terminal(out=out, compact=True)
                self.stdout.write(out.getvalue())
            entered = code if code is not None else input("Código de 6 dígitos mostrado pelo aplicativo: ")
            if not device.verify_token(entered.strip()):
                transaction.set_rollback(True)
                raise CommandError("Código incorreto: nada foi cadastrado. Rode o comando de novo.")
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            codes = recovery_codes_issue(user=user)
        self.stderr.write(f"Autenticador cadastrado para {username}.")
        self.stdout.write("Códigos de recuperação (cada um vale uma vez; guarde-os, não serão mostrados de novo):")
        for recovery in codes:
            self.stdout.write(f"  {recovery}")
