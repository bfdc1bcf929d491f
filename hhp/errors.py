"""Failures the person running the platform can act on (a setting, the registry, a locked
warehouse, a credential, a failed gate): the CLI shows each as one line, `error: ...`, with a
traceback only at HHP_LOG_LEVEL=DEBUG. Anything else is a bug, and keeps its traceback."""


class ExpectedError(RuntimeError):
    """A failure with a message that says what to do; no traceback needed."""

    def lines(self) -> list[str]:
        """The message, one line per problem."""
        return [line for line in str(self).splitlines() if line.strip()] or [type(self).__name__]


class NothingBuilt(ExpectedError):
    """A stage that reads the marts ran before anything was built."""

    def __init__(self, stage: str):
        super().__init__(f"{stage}: the warehouse has no marts yet; run `hhp ingest` and `hhp build` first")
