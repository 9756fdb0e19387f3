"""``fashionedit studio``: the design studio, a web page over design sessions (``DesignSessions``).

One HTML page with plain JavaScript (no build step), JSON routes that call the session engine, and
long steps in worker threads whose progress the page polls. Sessions live in the same store as the
CLI's, so a session started in one continues in the other.
"""

from .app import build_app, serve

__all__ = ["build_app", "serve"]
