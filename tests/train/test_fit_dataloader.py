"""fit takes a DataLoader of (x, y) batches: its arrays, batch size, sampling and drop_last."""

import numpy as np
import pytest

import nablagrad as ng


def _data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 3)).astype(np.float32)
    return X, (X[:, 0] + X[:, 1] > 0).astype(np.int64)


def _run(X, y=None, **kw):
    model = ng.nn.MLP([3, 8, 2], seed=0)
    hist = ng.train.fit(model, ng.nn.CrossEntropyLoss(), ng.optim.SGD(model.parameters(), lr=0.1), X, y, epochs=2,
                        seed=3, **kw)  # fmt: skip
    return hist, [p.numpy().copy() for p in model.parameters()]


@pytest.mark.parametrize("shuffle", [True, False])
def test_fit_on_a_dataloader_equals_fit_on_its_arrays(shuffle):
    X, y = _data()
    for data in ((X, y), ((X, y),)):
        loader = ng.data.DataLoader(*data, batch_size=8, shuffle=shuffle)
        h1, w1 = _run(loader, validation_data=ng.data.DataLoader(X, y, batch_size=8))
        h2, w2 = _run(X, y, batch_size=8, shuffle=shuffle, validation_data=(X, y))
        assert h1.history == h2.history
        for a, b in zip(w1, w2, strict=True):
            np.testing.assert_array_equal(a, b)


def test_fit_on_a_dataloader_keeps_drop_last():
    X, y = _data()
    steps = []

    class Count(ng.train.callbacks.Callback):
        def on_batch_end(self, trainer, batch, logs=None):
            steps.append(batch)

    _run(ng.data.DataLoader(X, y, batch_size=8, drop_last=True), callbacks=[Count()])
    assert len(steps) == 2 * (50 // 8)  # torch's len(loader) per epoch, the partial batch of 2 dropped


def test_fit_refuses_a_dataloader_with_y_or_without_targets():
    X, y = _data()
    with pytest.raises(TypeError, match="leave y out"):
        _run(ng.data.DataLoader(X, y), y)
    with pytest.raises(ValueError, match=r"batches hold 1 array\(s\)"):
        _run(ng.data.DataLoader(X))
