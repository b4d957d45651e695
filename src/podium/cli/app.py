"""The typer application every command module registers on, and the error boundary.

Every error a user can cause ends as one clear line on stderr and a non-zero exit code, never a
traceback (``PODIUM_DEBUG=1`` shows tracebacks for developers).
"""

from __future__ import annotations

import os
import sys

import typer
from rich.console import Console

from podium.errors import PodiumError, SpecError

try:  # typer vendors click from 0.2x on; before, it used click itself
    from typer._click import exceptions as click_errors
except ImportError:  # pragma: no cover - older typer
    from click import exceptions as click_errors  # type: ignore[no-redef]

app = typer.Typer(
    name="podium",
    help="Podium — the orchestration layer for generative media.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """Podium — the orchestration layer for generative media."""


err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print ``message`` as one line on stderr and return the Exit to raise."""
    err_console.print(f"[red]error:[/red] {message}", markup=True)
    return typer.Exit(code)


def main() -> None:
    """Entry point of the ``podium`` script."""
    try:
        code = app(prog_name="podium", standalone_mode=False)
    except click_errors.NoArgsIsHelpError as exc:  # bare `podium`: the help, as asked
        if exc.ctx is not None:
            err_console.print(exc.ctx.get_help(), markup=False)
        sys.exit(exc.exit_code)
    except click_errors.UsageError as exc:  # a wrong option or argument: one line, not click's box
        command = exc.ctx.command_path if exc.ctx is not None else "podium"
        err_console.print(
            f"error: {command}: {exc.format_message()} — see `{command} --help`", markup=False
        )
        sys.exit(exc.exit_code)
    except typer.Abort:  # Ctrl-C or end of input at a prompt
        err_console.print("interrupted", markup=False)
        sys.exit(130)
    except SpecError as exc:
        for problem in exc.problems:
            err_console.print(problem.one_line(), markup=False)
        sys.exit(2)
    except PodiumError as exc:
        err_console.print(f"error: {exc.one_line()}", markup=False)
        sys.exit(1)
    except KeyboardInterrupt:
        err_console.print("interrupted", markup=False)
        sys.exit(130)
    except Exception as exc:
        if os.environ.get("PODIUM_DEBUG"):
            raise
        err_console.print(
            f"internal error: {type(exc).__name__}: {exc} — please report it; "
            "PODIUM_DEBUG=1 shows the traceback",
            markup=False,
        )
        sys.exit(70)
    if isinstance(code, int) and code:  # a command's typer.Exit(code)
        sys.exit(code)
