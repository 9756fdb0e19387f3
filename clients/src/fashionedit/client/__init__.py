"""FashionEdit client: typed sync/async SDK for the four services, design sessions, and the CLI.

Needs no torch: httpx, pydantic and the contracts only.
"""

__version__ = "0.1.0"

from .bundle import AsyncFashionEditClient, FashionEditClient  # noqa: E402
from .errors import (  # noqa: E402
    APIError,
    AuthenticationError,
    FashionEditError,
    InternalServerError,
    InvalidRequestError,
    ServiceConnectionError,
    ServiceTimeoutError,
    ServiceUnavailableError,
    UpstreamError,
)
from .services import (  # noqa: E402
    AnalyzerClient,
    AsyncAnalyzerClient,
    AsyncEditorClient,
    AsyncGeneratorClient,
    AsyncScorerClient,
    EditorClient,
    GeneratorClient,
    ScorerClient,
)
from .settings import ClientSettings  # noqa: E402

__all__ = [name for name in dir() if not name.startswith("_")]
