"""The playground: train small MLPs on 2-D data in the browser, with nablagrad's engine."""

from .config import FIELDS, Config, ConfigError, Field, parse_config, schema
from .script import reproduce_script
from .session import Session
from .upload import Upload, UploadError, parse_csv

__all__ = ["FIELDS", "Config", "ConfigError", "Field", "Session", "Upload", "UploadError", "create_app", "parse_config",
           "parse_csv", "reproduce_script", "schema", "serve"]


def create_app():
    from .server import create_app as _create  # noqa: PLC0415 - needs the playground extra

    return _create()


def serve(*args, **kwargs):
    from .server import serve as _serve  # noqa: PLC0415

    return _serve(*args, **kwargs)
