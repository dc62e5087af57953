"""The Omie calls this project makes, where each one lives, and which are writes.

Writes get one concurrency lease per (app key, method); Omie does not support simultaneous
insert/update requests of one method (docs/omie.md#evidence). Billing and cancelling live on
``servicos/osp/``, not ``servicos/os/``.
"""

ENDPOINTS: dict[str, str] = {
    "UpsertCliente": "geral/clientes/",
    "ConsultarCliente": "geral/clientes/",
    "AssociarCodIntCliente": "geral/clientes/",
    "ListarClientes": "geral/clientes/",
    "IncluirOS": "servicos/os/",
    "ConsultarOS": "servicos/os/",
    "StatusOS": "servicos/os/",
    "ListarOS": "servicos/os/",
    "FaturarOS": "servicos/osp/",
    "CancelarOS": "servicos/osp/",
    "ReenviarOS": "servicos/osp/",
    "ListarNFSEs": "servicos/nfse/",
    # The NFS-e's PDF and XML (archived for NFSE_RETENTION_YEARS; docs/nfse_documents.md).
    "ObterNFSe": "servicos/osdocs/",
    # The service catalog: read by check_integrations to confirm OMIE_SERVICE_ID exists.
    "ConsultarCadastroServico": "servicos/servico/",
}

WRITE_CALLS = frozenset({"UpsertCliente", "AssociarCodIntCliente", "IncluirOS", "FaturarOS", "CancelarOS", "ReenviarOS"})
ALL_CALLS = tuple(ENDPOINTS)
