from tests.support.fixtures import openai_fake, openai_server  # noqa: F401
