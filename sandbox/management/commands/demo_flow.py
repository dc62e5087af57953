from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from orders.statuses import BillingStatus, SyncStatus
from sandbox.demo import demo_prepare, demo_run


class Command(BaseCommand):
    help = (
        "Sandbox: semeia o Bubble falso e leva os pedidos de demonstração pelo fluxo real (gatilho → sincronização → "
        "faturamento, no worker do Celery), até o painel mostrar um pedido em cada estado. Não duplica ao rodar de novo."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--timeout", type=float, default=80.0, help="segundos de espera pelos estados (padrão 80)")
        parser.add_argument("--admin-url", default="", help="endereço do admin, para a mensagem final")
        parser.add_argument("--seed-only", action="store_true", help="só semeia (não dispara os pedidos)")

    def handle(self, *args: object, **options: object) -> None:
        if not settings.SANDBOX:
            raise CommandError("SANDBOX está desligado: a demonstração só roda no modo sandbox.")
        lines = demo_prepare()
        self.stdout.write(self.style.SUCCESS(f"[demo] Bubble falso: {len(lines)} registros de demonstração prontos"))
        for line in lines:
            self.stdout.write(f"  {line}")
        if options["seed_only"]:
            return
        result = demo_run(timeout=float(options["timeout"]), progress=lambda text: self.stdout.write(f"[demo] {text}"))
        self.stdout.write(f"[demo] {len(result.triggered)} pedidos disparados, {len(result.already_there)} já existiam")
        for action in result.actions:
            self.stdout.write(f"[demo] ação de operação: {action}")
        sync = ", ".join(f"{SyncStatus(k).label}: {n}" for k, n in sorted(result.sync_counts.items()) if k)
        billing = ", ".join(f"{BillingStatus(k).label}: {n}" for k, n in sorted(result.billing_counts.items()) if k)
        self.stdout.write(f"[demo] sincronização — {sync}")
        self.stdout.write(f"[demo] faturamento — {billing}")
        where = options["admin_url"] or "/admin/"
        if result.rerun:
            self.stdout.write(self.style.SUCCESS(
                f"[demo] Os pedidos de demonstração já existiam (de um `make run` anterior): nada foi disparado nem "
                f"esperado — os estados acima são os de agora, com o que foi feito no admin desde então. "
                f"Para recomeçar do zero: `make demo-reset` (veja o README). Lista: {where}orders/order/."))
        elif result.complete:
            self.stdout.write(self.style.SUCCESS(f"[demo] Pronto: o painel em {where} mostra um pedido em cada estado; "
                                                 f"a lista em {where}orders/order/."))
        elif result.in_progress:
            self.stdout.write(self.style.WARNING(
                f"[demo] Ainda faltam: {', '.join(result.missing)}. {result.in_progress} pedido(s) seguem em andamento "
                f"(sincronizando ou em emissão): o worker continua e o painel mostra os estados quando chegarem. "
                f"Veja {where}orders/order/."))
        else:
            self.stdout.write(self.style.WARNING(
                f"[demo] Faltam no painel: {', '.join(result.missing)}, e nenhum pedido de demonstração está em andamento "
                f"(os estados já foram mudados no admin?). Veja {where}orders/order/ e o registro de ações."))
