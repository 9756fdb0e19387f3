"""The CLI's one error handler: what went wrong in words a user can act on, no traceback."""

from __future__ import annotations

import functools
from typing import Any, Callable

import typer
from pydantic import ValidationError
from rich.console import Console

from .design import SessionStateError
from .errors import FashionEditError
from .local import ServiceStartError
from .session import SessionNotFound

err_console = Console(stderr=True)


def handle_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Print what went wrong, in words a user can act on, and exit 1 (no traceback)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (FashionEditError, SessionNotFound, SessionStateError, ServiceStartError, FileNotFoundError, FileExistsError) as exc:
            err_console.print(f"[bold red]error:[/] {exc}")
            raise typer.Exit(1) from None
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}" for e in exc.errors())
            err_console.print(f"[bold red]invalid input:[/] {problems}")
            raise typer.Exit(2) from None
        except ValueError as exc:
            err_console.print(f"[bold red]invalid input:[/] {exc}")
            raise typer.Exit(2) from None

    return wrapper
