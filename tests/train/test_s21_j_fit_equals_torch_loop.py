"""``fit`` equals a hand-written PyTorch loop over the same batches: the loss of every epoch (the mean over the
examples, the last partial batch weighted by its size), the validation loss and the final weights, compiled and
eager, for several optimisers, losses and batch sizes."""

import numpy as np
import pytest
import torch

import nablagrad as ng
from nablagrad.data.loader import batch_indices

N = 23  # 23 rows: batches of 5 end with a partial batch of 3

CASES = [  # optimiser, its arguments (the same names in both libraries), loss, batch size, sampling
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}, "mse", 5, "shuffle"),
    ("Adam", {"lr": 0.01, "amsgrad": True}, "cross_entropy", 5, "random"),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.1}, "bce_with_logits", None, "shuffle"),
    ("RMSprop", {"lr": 0.01, "momentum": 0.5, "centered": True}, "huber", 1, "shuffle"),
    ("Adamax", {"lr": 0.01}, "cross_entropy", 4, "sequential"),
    ("Adagrad", {"lr": 0.1}, "l1", 6, "shuffle"),
]
TORCH_LOSS = {"mse": torch.nn.MSELoss, "cross_entropy": torch.nn.CrossEntropyLoss, "huber": torch.nn.HuberLoss,
              "bce_with_logits": torch.nn.BCEWithLogitsLoss, "l1": torch.nn.L1Loss}  # fmt: skip


def _data(loss, rng):
    X = rng.standard_normal((N, 4))
    if loss == "cross_entropy":
        return X, rng.integers(0, 3, N), 3
    if loss == "bce_with_logits":
        return X, rng.integers(0, 2, (N, 1)).astype(np.float64), 1
    return X, rng.standard_normal((N, 2)), 2


def _torch_copy(model):
    lins = [m for m in model.modules() if isinstance(m, ng.nn.Linear)]
    layers = []
    for lin in lins:
        t = torch.nn.Linear(*lin.weight.shape, dtype=torch.float64)
        with torch.no_grad():  # nablagrad's weight is (in, out), PyTorch's (out, in)
            t.weight.copy_(torch.from_numpy(lin.weight.numpy().T.copy()))
            t.bias.copy_(torch.from_numpy(lin.bias.numpy().copy()))
        layers += [t, torch.nn.Tanh()]
    return torch.nn.Sequential(*layers[:-1])


@pytest.mark.parametrize("jit", [True, False], ids=["compiled", "eager"])
@pytest.mark.parametrize("opt_name, opt_kw, loss, batch_size, sampling", CASES)
def test_fit_equals_a_torch_loop_over_the_same_batches(opt_name, opt_kw, loss, batch_size, sampling, jit):
    rng = np.random.default_rng(0)
    X, y, n_out = _data(loss, rng)
    Xv, yv = rng.standard_normal((7, 4)), y[:7]
    model = ng.nn.MLP([4, 5, n_out], activation="tanh", dtype="float64", seed=1)
    tmodel = _torch_copy(model)
    opt = getattr(ng.optim, opt_name)(model.parameters(), **opt_kw)
    topt = getattr(torch.optim, opt_name)(tmodel.parameters(), **opt_kw)
    h = ng.train.fit(model, loss, opt, X, y, epochs=3, batch_size=batch_size, sampling=sampling, seed=3, jit=jit,
                     validation_data=(Xv, yv))  # fmt: skip

    tloss, order = TORCH_LOSS[loss](), np.random.default_rng(3)  # fit draws its batches from default_rng(seed)
    losses, val_losses = [], []
    for _ in range(3):
        total, seen = 0.0, 0  # ("random" draws ⌈N/b⌉ batches of b: more than N examples)
        for idx in batch_indices(N, batch_size, sampling, order):
            topt.zero_grad()
            batch_loss = tloss(tmodel(torch.from_numpy(X[idx])), torch.from_numpy(y[idx]))
            batch_loss.backward()
            topt.step()
            total, seen = total + batch_loss.item() * len(idx), seen + len(idx)
        losses.append(total / seen)
        with torch.no_grad():
            val_losses.append(tloss(tmodel(torch.from_numpy(Xv)), torch.from_numpy(yv)).item())

    np.testing.assert_allclose(h["loss"], losses, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(h["val_loss"], val_losses, rtol=1e-10, atol=1e-12)
    tlins = [m for m in tmodel if isinstance(m, torch.nn.Linear)]
    for lin, t in zip([m for m in model.modules() if isinstance(m, ng.nn.Linear)], tlins):
        np.testing.assert_allclose(lin.weight.numpy(), t.weight.detach().numpy().T, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(lin.bias.numpy(), t.bias.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_the_same_seed_gives_the_same_run_and_another_seed_another_order():
    rng = np.random.default_rng(0)
    X, y, _ = _data("mse", rng)

    def run(seed):
        model = ng.nn.MLP([4, 5, 2], activation="tanh", dtype="float64", seed=1)
        h = ng.train.fit(model, "mse", ng.optim.SGD(model.parameters(), lr=0.1), X, y, epochs=2, batch_size=5, seed=seed)
        return h.steps["loss"]

    assert run(7) == run(7)
    assert run(7) != run(8)
