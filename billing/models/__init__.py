from billing.models.account import AccountEntry, CustomerAccount
from billing.models.exports import ExportJob
from billing.models.invoice import FailureStage, Invoice, InvoiceStep
from billing.models.nfse_documents import NfseArchive, NfseDocument
from billing.models.reconciliation import ReconciliationDrift, ReconciliationRun
from billing.models.runs import BillingRun

__all__ = [
    "AccountEntry",
    "BillingRun",
    "CustomerAccount",
    "ExportJob",
    "FailureStage",
    "Invoice",
    "InvoiceStep",
    "NfseArchive",
    "NfseDocument",
    "ReconciliationDrift",
    "ReconciliationRun",
]
