"""The playground: train small MLPs on 2-D data in the browser, with nablagrad's engine."""

from .config import Config, ConfigError, parse_config
from .session import Session, reproduce_script

__all__ = ["Config", "ConfigError", "Session", "parse_config", "reproduce_script", "create_app", "serve"]


def create_app():
    from .server import create_app as _create  # noqa: PLC0415 - needs the playground extra

    return _create()


def serve(*args, **kwargs):
    from .server import serve as _serve  # noqa: PLC0415

    return _serve(*args, **kwargs)
