# C4 model of the Blu × Omie backoffice (Structurizr DSL).
# This file is the model; docs/architecture/c4/*.puml are generated from it and the SVGs beside
# this file are rendered from those: `make c4` does both. Explained in docs/architecture.md.
workspace "Blu × Omie backoffice" "The service between Bubble (orders), Omie (ERP, NFS-e), Pagar.me and BrasilAPI." {

    model {
        bubbleUser = person "Bubble user" "Creates orders and presses the ops buttons in the Bubble app."
        ops = person "Ops / Financeiro" "Finds an order, reads its history, runs the ops actions in the Django admin."
        oncall = person "On-call engineer" "Watches Flower, Sentry, /health and the logs."

        bubble = softwareSystem "Bubble.io app" "Source of truth for orders and customers; calls the API and receives status writebacks." "External"
        omie = softwareSystem "Omie ERP" "Customers, service orders (OS), billing (FaturarOS) and NFS-e with the city hall." "External"
        pagarme = softwareSystem "Pagar.me" "Card and Pix payments; sends payment webhooks and answers charge reads." "External"
        brasilapi = softwareSystem "BrasilAPI" "Company data for a CNPJ (the Receita Federal's register)." "External"
        sentry = softwareSystem "Sentry" "Errors and the day-25 cron monitor (optional)." "External"

        backoffice = softwareSystem "Blu × Omie backoffice" "Syncs orders to Omie, bills them, emits and cancels NFS-e, writes every status back to Bubble." {
            nginx = container "nginx" "Reverse proxy; serves static files." "nginx"
            web = container "web" "The API for Bubble, the webhooks, the ops backoffice (Django admin), health." "gunicorn, Django, DRF" {
                ordersApi = component "Orders API" "POST /v1/orders/{id}/sync-omie and GET /v1/orders/{id}: records intent, answers at once." "orders.apis"
                opsActions = component "Ops actions" "retry, cancel-nf, mark-nf-manual, approve-billing-hold, override-day25, transfer-cc, use-cc: one catalog, one service each, for API and admin alike." "billing.apis, billing.services.actions"
                pagarmeWebhook = component "Pagar.me webhook" "POST /webhooks/pagarme: authenticates (RS256 with the JWKS, Basic or HMAC), stores the event once, answers 200." "integrations.pagarme.webhooks"
                omieWebhook = component "Omie webhook" "POST /webhooks/omie/<token>: stores every authentic event once (messageId) and answers 200 at once." "integrations.omie.webhooks"
                adminUi = component "Ops backoffice" "Django admin: dashboard, order page with timeline, action buttons with confirmation pages." "backoffice"
                idempotency = component "API plumbing" "JWT and revocable service tokens, throttles, Idempotency-Key replay, the base of every /v1/ view." "common.api"
            }
            worker = container "worker" "Celery workers on the queues default, omie, omie_reads, bubble, webhooks and exports: every slow or external step." "Celery" {
                syncFetch = component "Sync: fetch" "Reads the pedido and cliente from Bubble, validates CPF/CNPJ, looks the CNPJ up." "orders.services.sync_fetch"
                syncOmie = component "Sync: Omie" "UpsertCliente then IncluirOS (ConsultarOS first after an unknown outcome); marks SYNCED." "orders.services.sync_omie"
                decision = component "Billing decision" "Pure decide_billing: IMMEDIATE, DAY_25 or AWAIT_PAYMENT, date and hold." "billing.decision, billing.services.decision"
                billingRun = component "Day-25 run and due sweep" "Claims due SCHEDULED orders with SKIP LOCKED and creates their invoices." "billing.services.run"
                emission = component "Emission steps" "One Omie call per step: FaturarOS, StatusOS polling, ReenviarOS, CancelarOS and its confirmation." "billing.services.emission, billing.services.work"
                billingState = component "Billing state" "The one writer of billing, invoice and payment status: the allowed transitions as tables, the version bump, the Bubble writeback in the same transaction." "billing.services.state"
                paymentEvents = component "Payment events" "Applies a stored Pagar.me event to the order once, by the charge's own time." "billing.services.webhooks"
                reconciliation = component "Reconciliation" "Daily ListarOS/ListarNFSEs against local state; records drift." "billing.services.reconciliation"
                omieEvents = component "Omie events" "Applies a stored Omie event: NF emitida or cancelada at once, drift for changes made in Omie." "billing.services.omie_webhooks"
                omieClient = component "Omie client" "Typed calls; classifies every answer (business, not found, duplicate, not now, transient)." "integrations.omie"
                throttle = component "Central Omie throttle" "Token buckets, leases, error budget, pauses and bans, REDUNDANT guard, shared through Redis." "integrations.omie.throttle"
                bubbleClient = component "Bubble client" "Reads pedido/cliente, PATCHes fields with the app's own keys." "integrations.bubble.client"
                outbox = component "Writeback outbox" "Rows written with the change, coalesced per thing, delivered in order with retries." "integrations.bubble.services"
                brasilapiClient = component "BrasilAPI client" "CNPJ lookup through a 30-day cache and a 1 req/s shared limit." "integrations.brasilapi"
                actionLog = component "Action log" "Append-only record of every state change and refused request." "orders.services.action_log"
            }
            beat = container "beat" "Exactly one Celery Beat (DatabaseScheduler): day-25 run, sweeps, dispatcher, reconciliation, clean-ups." "Celery Beat"
            flower = container "Flower" "Workers and queues, behind basic auth." "Flower"
            db = container "PostgreSQL" "Orders, invoices, action log, outbox, Omie call log, idempotency records, task results, schedules." "PostgreSQL 17" "Database"
            redis = container "Redis" "Celery broker, the shared Omie and BrasilAPI throttle state, caches (noeviction)." "Redis 7" "Queue"
        }

        # people and the outside world
        bubbleUser -> bubble "Creates orders, presses ops buttons"
        ops -> nginx "Uses the ops backoffice" "HTTPS"
        oncall -> flower "Watches queues" "HTTPS"
        bubble -> nginx "Calls the API (sync-omie, ops actions)" "HTTPS, JSON, JWT"
        pagarme -> nginx "Sends payment webhooks" "HTTPS, JSON"
        omie -> nginx "Sends NFS-e and OS events (webhooks)" "HTTPS, JSON"
        nginx -> web "Proxies to" "HTTP"
        nginx -> flower "Proxies /flower to" "HTTP"

        # web
        bubble -> ordersApi "POST sync-omie, GET order" "HTTPS, JSON"
        bubble -> opsActions "POST ops actions" "HTTPS, JSON"
        ops -> adminUi "Finds orders, runs actions" "HTTPS"
        pagarme -> pagarmeWebhook "charge.paid, order.paid, refunds" "HTTPS, JSON"
        omie -> omieWebhook "NFSe.NotaAutorizada, NFSe.NotaCancelada, OrdemServico.*" "HTTPS, JSON"
        omieWebhook -> db "Stores the event" "SQL"
        omieWebhook -> omieEvents "Enqueues" "Celery"
        ordersApi -> idempotency "Authenticates, throttles, guards every POST"
        opsActions -> idempotency "Authenticates, throttles, guards every POST"
        adminUi -> opsActions "Calls the same services"
        ordersApi -> db "Creates the Order" "SQL"
        ordersApi -> syncFetch "Enqueues after commit" "Celery"
        opsActions -> emission "Enqueues steps (retry, cancel, emit now)" "Celery"
        pagarmeWebhook -> db "Stores the event" "SQL"
        pagarmeWebhook -> paymentEvents "Enqueues" "Celery"
        adminUi -> throttle "Reads throttle state for the dashboard"

        # worker: the order-to-invoice flow
        syncFetch -> bubbleClient "GET pedido, cliente"
        syncFetch -> brasilapiClient "CNPJ lookup (PJ)"
        syncFetch -> syncOmie "Hands off to the omie queue" "Celery"
        syncOmie -> omieClient "UpsertCliente, ConsultarOS, IncluirOS"
        syncOmie -> decision "Runs it once SYNCED, through the orders → billing seam (orders.handoff)"
        decision -> emission "Starts emission when IMMEDIATE"
        billingRun -> emission "Creates due invoices"
        paymentEvents -> pagarme "Reads the charge back" "HTTPS"
        paymentEvents -> decision "Re-runs it when paid"
        emission -> omieClient "FaturarOS, StatusOS, ReenviarOS, CancelarOS, ConsultarOS"
        reconciliation -> omieClient "ListarOS, ListarNFSEs"
        omieEvents -> emission "Settles the invoice's step (issued, cancelled) or brings StatusOS forward"
        omieEvents -> actionLog "Records drift and what it applied"
        omieClient -> throttle "Asks for a slot before every call"
        omieClient -> omie "POST module/service/" "HTTPS, JSON"
        throttle -> redis "Lua scripts" "RESP"
        brasilapiClient -> brasilapi "GET /cnpj/v1/{cnpj}" "HTTPS"
        brasilapiClient -> redis "Shared rate limit" "RESP"
        bubbleClient -> bubble "GET/PATCH /obj/..." "HTTPS, JSON"
        outbox -> bubbleClient "PATCH status, NF number, link, errors"
        syncOmie -> outbox "Writes status_pedido"
        decision -> billingState "SCHEDULED, ON_HOLD or AWAITING_PAYMENT"
        billingRun -> billingState "Claims due orders: invoices, ISSUING"
        emission -> billingState "ISSUED, FAILED, CANCELLED"
        paymentEvents -> billingState "Payment status"
        opsActions -> billingState "Ops transitions (hold approved, NF manual, cancel)"
        billingState -> outbox "Writes status_faturamento, date, NF number, link, errors"
        syncOmie -> actionLog "Records each step"
        emission -> actionLog "Records each step"
        opsActions -> actionLog "Records every attempt"
        actionLog -> db "Appends" "SQL"
        outbox -> db "Outbox rows" "SQL"
        emission -> db "Invoices, leases" "SQL"

        # platform
        beat -> redis "Publishes periodic tasks" "RESP"
        beat -> db "Reads the schedule" "SQL"
        beat -> billingRun "Day 25 at 07:00, sweep every 10 min" "Celery"
        beat -> emission "Dispatcher every 30 s" "Celery"
        beat -> reconciliation "Daily at 05:30" "Celery"
        beat -> outbox "Writeback sweep every 30 s" "Celery"
        worker -> sentry "Errors, cron check-ins" "HTTPS"
        web -> sentry "Errors" "HTTPS"
        web -> redis "Enqueues tasks" "RESP"
        worker -> redis "Consumes tasks" "RESP"
        worker -> db "Reads and writes" "SQL"
        web -> db "Reads and writes" "SQL"
        flower -> redis "Reads the broker" "RESP"
    }

    views {
        systemContext backoffice "context" "Who and what the backoffice talks to." {
            include *
            include bubbleUser
            autoLayout lr
        }
        container backoffice "containers" "The processes of one deployment (docker-compose.yml)." {
            include *
            autoLayout lr
        }
        component web "web-components" "What answers HTTP: the API, the webhooks, the ops backoffice." {
            include *
            autoLayout lr
        }
        component worker "order-to-invoice" "The order-to-invoice flow inside the workers." {
            include *
            autoLayout lr
        }
        styles {
            element "Person" {
                shape Person
            }
            element "External" {
                background #999999
            }
            element "Database" {
                shape Cylinder
            }
            element "Queue" {
                shape Pipe
            }
        }
    }
}
