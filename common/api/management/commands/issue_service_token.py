from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from common.api.tokens import service_token_issue


class Command(BaseCommand):
    help = "Prints a long-lived access token for a machine caller (e.g. Bubble). Revocable in the admin."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--days", type=int, default=365)
        parser.add_argument("--label", default="")

    def handle(self, *args: object, username: str, days: int, label: str, **options: object) -> None:
        if days < 1:
            raise CommandError("--days must be at least 1")
        try:
            user = get_user_model().objects.get(username=username, is_active=True)
        except get_user_model().DoesNotExist as exc:
            raise CommandError(f"No active user named {username!r}.") from exc
        token, row = service_token_issue(user=user, days=days, label=label or f"emitido via CLI para {username}")
        self.stderr.write(f"Token {row.jti} valid until {row.expires_at:%Y-%m-%d}. Store it as a secret; it is not shown again.")
        self.stdout.write(token)
