"""Omie's published contract as data (``omie_contract.json``) and the checks that read it.

``request_problems(call, param)`` and ``response_problems(call, body)`` are used by the payload
tests, the dry run (``OMIE_DRY_RUN``) and the sandbox's fake Omie, so the product and the fake can
only agree with each other by agreeing with the description.
"""

from integrations.omie.contract.validator import (
    Issue,
    call_spec,
    contract,
    described_calls,
    request_issues,
    request_problems,
    response_problems,
    value_table,
)

__all__ = [
    "Issue", "call_spec", "contract", "described_calls", "request_issues", "request_problems", "response_problems",
    "value_table",
]
