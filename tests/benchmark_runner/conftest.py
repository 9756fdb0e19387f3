from tests.support.stack import service_stack  # noqa: F401
