"""The top of the platform: the chain of stages (`chain`), the `hhp` command (`cli`) and the
ledger's reconciliation (`status`), the only code that joins stages."""
