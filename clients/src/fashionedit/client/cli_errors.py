"""The CLI's one error handler: what went wrong in words a user can act on, no traceback."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

from .common.folder_lock import FolderLocked
from .design import SessionStateError
from .errors import FashionEditError
from .local import ServiceStartError
from .session import SessionNotFound

err_console = Console(stderr=True)


def _file_message(exc: OSError) -> str:
    # Our own FileNotFoundError carries a sentence; the OS's carries errno and filename ("[Errno 2] ...").
    if exc.filename is None:
        return str(exc)
    return f"{exc.strerror.lower() if exc.strerror else 'cannot use'}: {exc.filename}"


def handle_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Print what went wrong, in words a user can act on, and exit 1 (2 for invalid input); no traceback.

    Messages are printed as text, not rich markup: "[ymin, xmin, ymax, xmax]" in a message stays visible.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except FolderLocked as exc:  # a session, a dataset build or a benchmark run another process is writing
            err_console.print(f"[bold red]in use:[/] {escape(str(exc))}", soft_wrap=True)
            raise typer.Exit(1) from None
        except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
            err_console.print(f"[bold red]error:[/] {escape(_file_message(exc))}", soft_wrap=True)
            raise typer.Exit(1) from None
        except (FashionEditError, SessionNotFound, SessionStateError, ServiceStartError, FileExistsError) as exc:
            err_console.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
            raise typer.Exit(1) from None
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}" for e in exc.errors())
            err_console.print(f"[bold red]invalid input:[/] {escape(problems)}", soft_wrap=True)
            raise typer.Exit(2) from None
        except ValueError as exc:
            err_console.print(f"[bold red]invalid input:[/] {escape(str(exc))}", soft_wrap=True)
            raise typer.Exit(2) from None

    return wrapper
