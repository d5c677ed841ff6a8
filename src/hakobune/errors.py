"""Typed failures. The CLI turns each into one `error:` line and an exit code."""


class HakobuneError(Exception):
    """A failure at run time (exit 1). `hint` tells the user what to do about it."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} (hint: {self.hint})" if self.hint else self.message


class InvalidInput(HakobuneError):
    """Bad usage: found before anything was touched (exit 2)."""

    exit_code = 2
