"""The NFS-e XML parser refuses DTDs and entities (billion laughs, external entities) without a network
call or a memory blow-up, and reads the facts the archive stores from both layouts."""

from __future__ import annotations

import resource
import threading
import time
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from integrations.omie.nfse_xml import nfse_xml_facts


class _Counting(BaseHTTPRequestHandler):
    hits = 0

    def do_GET(self) -> None:
        type(self).hits += 1
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"<x>segredo</x>")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def listener():
    server = HTTPServer(("127.0.0.1", 0), _Counting)
    _Counting.hits = 0
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


BILLION_LAUGHS = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                  + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">' for i in range(1, 10))
                  + ']><NFSe><infNFSe><nNFSe>&lol9;</nNFSe></infNFSe></NFSe>')


def test_entity_expansion_is_refused_at_once_without_memory_growth():
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    facts = nfse_xml_facts(BILLION_LAUGHS)
    assert facts.problem.startswith("XML inválido ou inseguro") and facts.number == ""
    assert time.monotonic() - started < 1.0
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50 * 1024  # KiB: no 3 GB expansion


@pytest.mark.parametrize("template", [
    '<?xml version="1.0"?><!DOCTYPE n [<!ENTITY ext SYSTEM "{url}/x">]><NFSe><nNFSe>&ext;</nNFSe></NFSe>',
    '<?xml version="1.0"?><!DOCTYPE n [<!ENTITY % p SYSTEM "{url}/p"> %p;]><NFSe><nNFSe>1</nNFSe></NFSe>',
    '<?xml version="1.0"?><!DOCTYPE n SYSTEM "{url}/dtd"><NFSe><nNFSe>1</nNFSe></NFSe>',
])
def test_external_entities_and_dtds_are_refused_without_any_network_call(listener, template):
    facts = nfse_xml_facts(template.format(url=listener).encode())
    assert facts.problem and facts.number == ""
    assert _Counting.hits == 0


def test_the_national_layout_gives_key_date_amounts_and_both_documents():
    xml = ('<NFSe xmlns="http://www.sped.fazenda.gov.br/nfse"><infNFSe Id="NFS' + "3" * 50 + '"><nNFSe>000042</nNFSe>'
           '<dhProc>2026-11-25T10:30:00-03:00</dhProc><emit><CNPJ>11222333000181</CNPJ></emit><valores><vLiq>980.00</vLiq>'
           '<vISSQN>20.00</vISSQN></valores><DPS><infDPS><toma><CPF>52998224725</CPF></toma><valores><vServPrest>'
           '<vServ>1000.00</vServ></vServPrest></valores></infDPS></DPS></infNFSe></NFSe>')
    facts = nfse_xml_facts(xml)
    assert (facts.number, facts.access_key) == ("42", "3" * 50)
    assert facts.issued_at.isoformat() == "2026-11-25T10:30:00-03:00"
    assert (facts.service_amount, facts.net_amount, facts.iss_amount) == (Decimal("1000.00"), Decimal("980.00"), Decimal("20.00"))
    assert (facts.provider_document, facts.taker_document) == ("11222333000181", "52998224725")


def test_the_abrasf_layout_gives_number_code_date_amounts_and_documents():
    xml = ('<CompNfse><Nfse><InfNfse><Numero>7</Numero><CodigoVerificacao>AB-12</CodigoVerificacao>'
           '<DataEmissao>2026-11-25T10:30:00</DataEmissao><ValoresNfse><ValorLiquidoNfse>95.5</ValorLiquidoNfse></ValoresNfse>'
           '<PrestadorServico><IdentificacaoPrestador><CpfCnpj><Cnpj>11222333000181</Cnpj></CpfCnpj></IdentificacaoPrestador>'
           '</PrestadorServico><TomadorServico><IdentificacaoTomador><CpfCnpj><Cnpj>11444777000161</Cnpj></CpfCnpj>'
           '</IdentificacaoTomador></TomadorServico><Servico><Valores><ValorServicos>100</ValorServicos><ValorIss>2</ValorIss>'
           '</Valores></Servico></InfNfse></Nfse></CompNfse>')
    facts = nfse_xml_facts(xml)
    assert (facts.number, facts.verification_code, facts.access_key) == ("7", "AB-12", "")
    assert facts.issued_at.isoformat() == "2026-11-25T10:30:00-03:00"  # no offset: São Paulo's
    assert (facts.service_amount, facts.net_amount, facts.iss_amount) == (Decimal("100.00"), Decimal("95.50"), Decimal("2.00"))
    assert (facts.provider_document, facts.taker_document) == ("11222333000181", "11444777000161")
