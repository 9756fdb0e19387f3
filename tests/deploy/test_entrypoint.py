"""deploy/docker/entrypoint.sh: Docker/Compose secrets (files) become the environment variables the
services' settings read, before the command runs."""

from __future__ import annotations

import os

from .tools import REPO, run

ENTRYPOINT = str(REPO / "deploy" / "docker" / "entrypoint.sh")


def run_entrypoint(env: dict[str, str], *command: str):
    base = {"PATH": os.environ["PATH"]}
    return run(["sh", ENTRYPOINT, *(command or ("env",))], env={**base, **env})


def exported(stdout: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in stdout.splitlines() if "=" in line)


def test_file_variables_become_settings(tmp_path) -> None:
    key = tmp_path / "openai_api_key"
    key.write_text("sk-test-123\n")
    token = tmp_path / "api_token"
    token.write_text("s3cret")
    result = run_entrypoint(
        {
            "FASHIONEDIT_ANALYZER_OPENAI_API_KEY_FILE": str(key),
            "FASHIONEDIT_API_TOKEN_FILE": str(token),
            "UNRELATED_FILE": "/nope",
        }
    )
    assert result.returncode == 0, result.stderr
    env = exported(result.stdout)
    assert env["FASHIONEDIT_ANALYZER_OPENAI_API_KEY"] == "sk-test-123"  # one trailing newline dropped
    assert env["FASHIONEDIT_API_TOKEN"] == "s3cret"
    assert "FASHIONEDIT_ANALYZER_OPENAI_API_KEY_FILE" not in env
    assert env["UNRELATED_FILE"] == "/nope"  # only FASHIONEDIT_* and OPENAI_API_KEY are touched


def test_a_set_variable_wins_over_its_file(tmp_path) -> None:
    key = tmp_path / "key"
    key.write_text("from-file")
    result = run_entrypoint({"OPENAI_API_KEY": "from-env", "OPENAI_API_KEY_FILE": str(key)})
    assert result.returncode == 0
    assert exported(result.stdout)["OPENAI_API_KEY"] == "from-env"
    assert "keeping OPENAI_API_KEY" in result.stderr and "from-file" not in result.stderr


def test_an_unreadable_file_stops_the_container_with_a_clear_message() -> None:
    result = run_entrypoint({"FASHIONEDIT_EDITOR_OPENAI_API_KEY_FILE": "/run/secrets/missing"})
    assert result.returncode == 64
    assert "FASHIONEDIT_EDITOR_OPENAI_API_KEY_FILE" in result.stderr and "/run/secrets/missing" in result.stderr


def test_the_command_and_its_arguments_run_unchanged() -> None:
    result = run_entrypoint({}, "sh", "-c", 'printf "%s|" "$@"', "sh", "a b", "c")
    assert result.returncode == 0 and result.stdout == "a b|c|"
