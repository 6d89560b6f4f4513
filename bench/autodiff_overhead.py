"""Autodiff overhead against PyTorch, measured in the same run.

1. A chain of 1 000 small elementwise ops (shape (16,)), forward + backward: per-op overhead.
2. A 784-256-128-10 ReLU MLP, forward + backward on a batch of 128 (float32).

Prints times and the ratio ours / PyTorch (< 1 means nablagrad is faster).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import best_time, clean_blas_env, machine_report  # noqa: E402
from workloads import N_OPS, chain, mlp_setup, mlp_step  # noqa: E402

clean_blas_env()

import numpy as np  # noqa: E402
import torch  # noqa: E402

import nablagrad as ng  # noqa: E402


def chain_ng(x0):
    return chain(ng, ng.tensor(x0, requires_grad=True))


def chain_torch(x0):
    return chain(torch, torch.tensor(x0, requires_grad=True))


def main() -> None:
    torch.set_num_threads(2)
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal(16).astype(np.float32)
    np.testing.assert_allclose(chain_ng(x0).numpy(), chain_torch(x0).numpy(), rtol=1e-4, atol=1e-5)
    t_ng = best_time(lambda: chain_ng(x0), repeat=9)
    t_th = best_time(lambda: chain_torch(x0), repeat=9)

    ws, bs, x, y = mlp_setup(rng)
    p_ng = [ng.tensor(a, requires_grad=True) for a in ws + bs]
    p_th = [torch.tensor(a, requires_grad=True) for a in ws + bs]
    xn, xt, yt = ng.tensor(x), torch.tensor(x), torch.tensor(y)

    def step_ng():
        mlp_step(ng, p_ng, xn, y)

    def step_th():
        h = xt
        for i in range(3):
            h = h @ p_th[i] + p_th[3 + i]
            if i < 2:
                h = torch.relu(h)
        loss = torch.nn.functional.cross_entropy(h, yt)
        for p in p_th:
            p.grad = None
        loss.backward()

    m_ng = best_time(step_ng, repeat=15, number=5)
    m_th = best_time(step_th, repeat=15, number=5)
    print(machine_report())
    print(
        f"chain of {N_OPS} ops fwd+bwd : nablagrad {t_ng * 1e3:7.2f} ms  torch {t_th * 1e3:7.2f} ms  "
        f"ratio {t_ng / t_th:.2f}  (per op: {t_ng / N_OPS * 1e6:.2f} us vs {t_th / N_OPS * 1e6:.2f} us)"
    )
    print(f"MLP 784-256-128-10, b=128   : nablagrad {m_ng * 1e3:7.2f} ms  torch {m_th * 1e3:7.2f} ms  ratio {m_ng / m_th:.2f}")


if __name__ == "__main__":
    main()
