"""Data: the bundled MNIST, users' files, the playground's generators, mini-batching."""

from .datasets import DataFormatError, load_csv, load_fashion_mnist, load_idx, load_mnist, load_npz
from .loader import SAMPLING, ChunkedReader, DataLoader, batch_indices
from .preprocess import Standardizer, one_hot, standardize
from .shards import load_shards, save_shards
from .synthetic import (
    CLASSIFICATION_SETS,
    DATASETS,
    make_blobs,
    make_circle,
    make_gauss,
    make_moons,
    make_reg_gauss,
    make_reg_plane,
    make_sin,
    make_spiral,
    make_xor,
)
