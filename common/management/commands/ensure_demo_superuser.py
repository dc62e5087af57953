import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Creates (or resets) a demo superuser with a fresh random password and prints it. Sandbox/debug only."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default="admin")

    def handle(self, *args: object, username: str, **options: object) -> None:
        if not (settings.DEBUG or settings.SANDBOX):
            raise CommandError("Refusing to create a demo superuser outside DEBUG/SANDBOX.")
        password = secrets.token_urlsafe(12)
        user, created = get_user_model().objects.get_or_create(
            username=username, defaults={"is_staff": True, "is_superuser": True, "email": f"{username}@example.com"}
        )
        user.is_staff = user.is_superuser = user.is_active = True
        user.set_password(password)
        user.save()
        verb = "created" if created else "password reset"
        self.stdout.write(f"Demo superuser {verb}: username={username} password={password}")
