"""Saving and loading models (safetensors + JSON metadata), written atomically."""

from .architecture import ArchitectureError, from_spec, to_spec
from .atomic import atomic_write_bytes
from .serialization import (
    ModelFile,
    ModelFileError,
    deserialize,
    load,
    load_checkpoint,
    load_optimizer_state,
    read_metadata,
    save,
    serialize,
)
