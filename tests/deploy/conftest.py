"""One analyzer server (offline classical backend, bearer token on) shared by the HTTP tests of this package."""

from __future__ import annotations

import pytest

from tests.support.servers import BentoServer

API_TOKEN = "deploy-test-token-7f3a"


@pytest.fixture(scope="package")
def analyzer_with_token(tmp_path_factory):
    env = {"FASHIONEDIT_API_TOKEN": API_TOKEN, "FASHIONEDIT_ANALYZER_BACKEND": "classical"}
    log_path = tmp_path_factory.mktemp("analyzer") / "bentoml.log"
    with BentoServer("fashionedit.services.analyzer.service:Analyzer", env=env, log_path=log_path) as server:
        yield server
