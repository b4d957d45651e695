"""Podium's error tree.

Every provider error is translated at the provider's edge into one of the failure classes
below (DESIGN.md, "Failure classes"). Each carries a stable ``code``, whether the same model may
be retried, an optional ``retry_after`` in seconds, and a one-line ``hint`` telling the user
what to do. ``where`` says where the problem is: a ``file:line:col``, a step id, a model.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class PodiumError(Exception):
    """Base of every error Podium raises on purpose.

    Args:
        message: what happened, one line.
        hint: what to do about it, one line.
        where: where it happened (``file:line:col``, ``step shots``, ``model fal/flux``).
        retry_after: seconds the provider asked us to wait before retrying, if any.
    """

    code: str = "error"
    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        where: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.where = where
        self.retry_after = retry_after

    def __reduce__(self) -> tuple[object, ...]:
        # keep hint/where/retry_after when an error crosses a process boundary
        return (
            _rebuild,
            (type(self), self.message, self.hint, self.where, self.retry_after),
        )

    def one_line(self) -> str:
        """The error as the single line a user sees: ``where: message (hint)``."""
        text = f"{self.where}: {self.message}" if self.where else self.message
        if self.hint:
            text += f" — {self.hint}"
        return text

    def __str__(self) -> str:
        return self.one_line()


def _rebuild(
    cls: type[PodiumError],
    message: str,
    hint: str | None,
    where: str | None,
    retry_after: float | None,
) -> PodiumError:
    err = cls.__new__(cls)
    PodiumError.__init__(err, message, hint=hint, where=where, retry_after=retry_after)
    return err


class Transient(PodiumError):
    """A passing fault (5xx, connection reset, 429 with Retry-After): retry the same model."""

    code = "transient"
    retryable = True


class Timeout(PodiumError):
    """An attempt ran past its ``timeout_s``: go to the next fallback, do not retry the same."""

    code = "timeout"


class QuotaExceeded(PodiumError):
    """The provider's quota or rate limit is spent: open the breaker and fall back."""

    code = "quota_exceeded"


class Refused(PodiumError):
    """A content-policy refusal: fall back, never retry the same model."""

    code = "refused"


class BadOutput(PodiumError):
    """Corrupt or off-spec media came back: fall back."""

    code = "bad_output"


class InvalidInput(PodiumError):
    """The request itself is wrong (the user's fault): fail fast with a clear message."""

    code = "invalid_input"


class Unavailable(PodiumError):
    """No key, engine not installed, provider unknown: excluded at plan time."""

    code = "unavailable"


class BudgetExceeded(PodiumError):
    """Running the attempt would spend more than a budget allows."""

    code = "budget_exceeded"


class Cancelled(PodiumError):
    """The run or attempt was cancelled by the user or by a winning hedge."""

    code = "cancelled"


FAILURE_CLASSES: dict[str, type[PodiumError]] = {
    cls.code: cls
    for cls in (
        Transient,
        Timeout,
        QuotaExceeded,
        Refused,
        BadOutput,
        InvalidInput,
        Unavailable,
        BudgetExceeded,
        Cancelled,
    )
}


class Problem:
    """One problem found in a spec: where, which field, what, and a hint.

    Args:
        message: what is wrong.
        file: the spec file, if it came from one.
        line: 1-based line, if known.
        col: 1-based column, if known.
        path: the field path, e.g. ``steps[2].prompt.lightng``.
        hint: what to do ("did you mean 'lighting'?").
        severity: ``error`` or ``warning``.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        col: int | None = None,
        path: str = "",
        hint: str | None = None,
        severity: str = "error",
        code: str = "spec",
    ) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.col = col
        self.path = path
        self.hint = hint
        self.severity = severity
        self.code = code

    @property
    def location(self) -> str:
        """``file:line:col`` with whatever parts are known."""
        parts = [self.file or "<spec>"]
        if self.line is not None:
            parts.append(str(self.line))
            if self.col is not None:
                parts.append(str(self.col))
        return ":".join(parts)

    def one_line(self) -> str:
        """``file:line:col: severity: path: message (hint)``."""
        text = f"{self.location}: {self.severity}: "
        if self.path:
            text += f"{self.path}: "
        text += self.message
        if self.hint:
            text += f" — {self.hint}"
        return text

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "file": self.file,
            "line": self.line,
            "col": self.col,
            "path": self.path,
            "message": self.message,
            "hint": self.hint,
            "severity": self.severity,
            "code": self.code,
        }

    def __repr__(self) -> str:
        return f"Problem({self.one_line()!r})"


class SpecError(PodiumError):
    """A pipeline spec has problems; ``problems`` lists every one of them."""

    code = "spec"

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        first = problems[0].one_line() if problems else "invalid spec"
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(first + more)

    def __reduce__(self) -> tuple[object, ...]:
        return (SpecError, (self.problems,))

    def one_line(self) -> str:
        return self.message


def validation_message(error: Mapping[str, Any]) -> str:
    """The words of one pydantic validation error (``ValidationError.errors()`` item): a
    validator's own message without pydantic's "Value error, " in front of it."""
    if error.get("type") == "value_error" and "error" in error.get("ctx", {}):
        return str(error["ctx"]["error"])
    return str(error.get("msg", ""))


def not_utf8(error: UnicodeDecodeError) -> tuple[str, int]:
    """What to say of a file that is not UTF-8 (``"not UTF-8 text (byte 0xff)"``), and the
    line the bad byte is on."""
    data = bytes(error.object)
    return f"not UTF-8 text (byte {data[error.start]:#04x})", data[: error.start].count(b"\n") + 1
