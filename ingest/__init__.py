"""Ingestion: landing, the study registry, one adapter per partner format, the ledger, loading."""
