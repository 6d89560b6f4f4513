"""fit on a model that starts with an Embedding: integer inputs stay integers (they are indices), and the
trajectory equals PyTorch's for the same weights, batches and optimiser (torch 2.13 as the oracle)."""

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.numpy_only


@pytest.mark.parametrize("jit", [True, False])
def test_fit_trains_an_embedding_model_as_torch(jit):
    rng = np.random.default_rng(0)
    X = rng.integers(0, 10, (48, 3))
    y = (X.sum(1) > 13).astype(np.int64)
    model = ng.nn.Sequential(ng.nn.Embedding(10, 4), ng.nn.Flatten(), ng.nn.Linear(12, 2))
    ref = torch.nn.Sequential(torch.nn.Embedding(10, 4), torch.nn.Flatten(), torch.nn.Linear(12, 2)).double()
    model = model.to(dtype="float64") if hasattr(model, "to") else model
    with torch.no_grad():
        ref[0].weight.copy_(torch.tensor(model[0].weight.numpy()))
        ref[2].weight.copy_(torch.tensor(model[2].weight.numpy().T))
        ref[2].bias.copy_(torch.tensor(model[2].bias.numpy()))
    history = ng.train.fit(model, ng.nn.CrossEntropyLoss(), ng.optim.Adam(model.parameters(), lr=0.05), X, y,
                           epochs=3, batch_size=16, sampling="sequential", jit=jit, progress=False)  # fmt: skip
    opt = torch.optim.Adam(ref.parameters(), lr=0.05)
    for _ in range(3):
        for start in range(0, 48, 16):
            rows = slice(start, start + 16)
            loss = torch.nn.functional.cross_entropy(ref(torch.tensor(X[rows])), torch.tensor(y[rows]))
            opt.zero_grad()
            loss.backward()
            opt.step()
    np.testing.assert_allclose(model[0].weight.numpy(), ref[0].weight.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(model[2].weight.numpy(), ref[2].weight.detach().numpy().T, rtol=1e-10, atol=1e-12)
    assert history.history["loss"][-1] < history.history["loss"][0]
