"""Draw every figure of the tutorials from the tutorials' own code, into docs/figures/ (or a folder
given as the first argument).  ``make docs-figures`` runs it; the PNGs are committed and
tests/test_docs_site.py regenerates them into a temporary folder.

    python scripts/docs_figures.py [OUTDIR]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import nablagrad as ng  # noqa: E402
from nablagrad import ml, scratch, viz  # noqa: E402


def three_lines(out: Path) -> None:
    """Lecture 002: the 2-3-1 network of three logistic lines on a triangle."""
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (600, 2))
    y = ((X[:, 1] > -0.5) & (X[:, 1] < 1.2 * X[:, 0] + 0.6) & (X[:, 1] < -1.2 * X[:, 0] + 0.6)).astype(float)[:, None]
    net = scratch.Network([scratch.Dense(2, 3, seed=0), scratch.Sigmoid(), scratch.Dense(3, 1, seed=10), scratch.Sigmoid()],
                          scratch.MSE(scale=0.5))  # fmt: skip
    net.fit(X, y, lr=5.0, epochs=300, batch_size=10, seed=0)
    g = np.linspace(-1, 1, 200)
    G = np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.contourf(g, g, net.forward(G).reshape(200, 200), levels=20, cmap="RdBu_r", alpha=0.6)
    ax.scatter(X[:, 0], X[:, 1], c=y[:, 0], cmap="RdBu_r", s=8, edgecolors="k", linewidths=0.2)
    W, b = net.layers[0].W, net.layers[0].b
    for i in range(3):  # the line w_0 + w_1 x_1 + w_2 x_2 = 0 of hidden neuron i
        ax.plot(g, -(b[i] + W[0, i] * g) / W[1, i], "k--", lw=1.2)
    ax.set(xlim=(-1, 1), ylim=(-1, 1), title="three logistic lines → one network (lecture 002)")
    viz.save_figure(fig, out / "three_lines.png")


def saturation(out: Path) -> None:
    """Lecture 001: sigmoid/softmax derivatives vanish as the input grows."""
    z = np.linspace(-10, 10, 401)
    x = ng.tensor(z, dtype="float64", requires_grad=True)
    ng.sigmoid(x).sum().backward()
    scales = np.logspace(-1, 2, 40)
    base = np.array([1.0, 0.5, -0.3])
    jac = [np.abs(ng.jacrev(lambda t: ng.softmax(t, axis=0))(s * base).numpy()).max() for s in scales]
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.5))
    a.plot(z, x.grad.numpy(), label="σ'(z) = σ(1 − σ)")
    a.plot(z, 1 - np.tanh(z) ** 2, label="tanh'(z) = 1 − tanh²")
    a.set(title="sigmoid and tanh saturate", xlabel="z")
    a.legend()
    b.loglog(scales, jac)
    b.set(title="softmax: largest |∂o_i/∂z_j| vs logit scale", xlabel="scale s of the logits s·(1, 0.5, −0.3)")
    fig.tight_layout()
    viz.save_figure(fig, out / "saturation.png")


def symmetry(out: Path) -> None:
    """Lecture 000: zero initialisation — every hidden unit gets the same gradient and stays equal."""
    X, y = ng.data.make_xor(200, seed=0)
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for init, style in (("zeros", "-"), (None, "--")):
        model = ng.nn.MLP([2, 8, 2], activation="tanh", init=init, dtype="float64", seed=0)
        if init == "zeros":  # every weight and bias the same constant: all hidden units identical
            for p in model.parameters():
                p.data[...] = 0.1
        opt = ng.optim.SGD(model.parameters(), lr=0.5)
        spread = []
        for _ in range(200):
            loss = ng.nn.CrossEntropyLoss()(model(ng.tensor(X)), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            W = model[0].weight.numpy()
            spread.append(float(np.abs(W - W[:, :1]).max()))
        ax.plot(spread, style, label="constant init" if init else "random init")
    ax.set(title="hidden units: max |w_j − w_1| during training", xlabel="step")
    ax.legend()
    viz.save_figure(fig, out / "symmetry.png")


def optimizer_paths(out: Path) -> None:
    viz.save_figure(viz.plot_optimizer_paths([0.02, 0.2, 0.52], steps=30), out / "optimizer_paths.png")


def random_steps(out: Path) -> None:
    f = lambda x: (x**4 - 3 * x**2 + x).sum()
    xs = np.linspace(-2.2, 2.2, 300)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(xs, xs**4 - 3 * xs**2 + xs, "k", lw=1)
    for name, kw in (("plain GD", dict(lr=0.01, jumps=0)), ("random steps", dict(lr=0.01, jumps=10, scale=2.0, seed=0)),
                     ("lr = 0.1", dict(lr=0.1, jumps=0))):  # fmt: skip
        r = ng.optim.descend_with_random_steps(f, np.array([2.0]), **kw)
        p = np.array(r.path)[:, 0]
        ax.plot(p, p**4 - 3 * p**2 + p, ".", ms=3, label=f"{name}: x = {r.x[0]:.2f}")
    ax.set(ylim=(-4, 6), title="f(x) = x⁴ − 3x² + x: leaving the local minimum", xlabel="x")
    ax.legend()
    viz.save_figure(fig, out / "random_steps.png")


def kan_edges(out: Path) -> None:
    ng.set_default_dtype("float64")
    rng = np.random.default_rng(0)
    f = lambda X: np.exp(np.sin(np.pi * X[:, 0]) + X[:, 1] ** 2)[:, None]
    X = rng.uniform(-1, 1, (300, 2))
    kan = ng.nn.KAN([2, 5, 1], seed=0)
    opt = ng.optim.Adam(kan.parameters(), lr=0.01)
    for _ in range(400):
        loss = ng.nn.functional.mse_loss(kan(X), f(X))
        opt.zero_grad()
        loss.backward()
        opt.step()
    g = np.linspace(-1, 1, 200)
    phi = kan[0].edge_functions(g)
    fig, axes = plt.subplots(2, 5, figsize=(12, 4.2), sharex=True)
    for i in range(2):
        for j in range(5):
            axes[i, j].plot(g, phi[:, i, j])
            axes[i, j].set_title(f"φ(x{i + 1} → h{j + 1})", fontsize=9)
    fig.suptitle("KAN 2-5-1: the learned edge functions of the first layer")
    fig.tight_layout()
    viz.save_figure(fig, out / "kan_edges.png")
    ng.set_default_dtype("float32")


def consistency(out: Path) -> None:
    normal = lambda n, rng: rng.normal(2.0, 3.0, n)
    sizes = [2, 5, 10, 30, 100, 300, 1000]
    fig, ax = plt.subplots(figsize=(5.5, 3.5))
    for name, est in (("mean x̄", np.mean), ("first observation x⁽¹⁾", lambda x: x[0])):
        ax.semilogx(sizes, ml.consistency_curve(est, normal, sizes, 2.0, eps=0.5, trials=500, seed=0), "o-", label=name)
    ax.set(title="P(|θ̂ − μ| > 0.5) as the sample grows", xlabel="sample size m")
    ax.legend()
    viz.save_figure(fig, out / "consistency.png")


def backward_edges(out: Path) -> None:
    """Lecture 002: backward costs one visit per edge — time linear in the number of edges."""
    sizes = [250, 500, 1000, 2000, 4000, 8000]
    times = []
    for n in sizes:
        x = ng.tensor(np.array(0.5), dtype="float64", requires_grad=True)
        y = x
        for _ in range(n):
            y = ng.sin(y) * 0.9 + y * 0.1  # 4 primitive ops, 5 edges per link
        t0 = time.perf_counter()
        y.backward()
        times.append(time.perf_counter() - t0)
    fig, ax = plt.subplots(figsize=(5.5, 3.5))
    ax.plot(np.array(sizes) * 5, np.array(times) * 1e3, "o-")
    ax.set(title="backward time vs number of edges", xlabel="edges in the graph", ylabel="ms")
    viz.save_figure(fig, out / "backward_edges.png")


def computational_graph(out: Path) -> None:
    """docs/autodiff.md: the graph of its path example y = exp(x1·x2) + x2³ at (1, 2), with values and adjoints."""
    viz.save_figure(viz.plot_graph(ng.explain(lambda x1, x2: ng.exp(x1 * x2) + x2**3, 1.0, 2.0)), out / "graph.png")


def training_curves(out: Path) -> None:
    """docs/training.md: the XOR run of its first example, with a validation set, as curves."""
    X, y = ng.data.make_xor(200, seed=0)
    Xv, yv = ng.data.make_xor(200, seed=1)
    model = ng.nn.MLP([2, 16, 16, 1], activation="tanh", seed=0)
    history = ng.train.fit(model, ng.nn.BCEWithLogitsLoss(), ng.optim.Adam(model.parameters(), lr=0.01), X,
                           y.reshape(-1, 1), epochs=60, batch_size=32, metrics=["accuracy"], seed=0,
                           validation_data=(Xv, yv.reshape(-1, 1)))  # fmt: skip
    viz.save_figure(viz.plot_history(history), out / "training_curves.png")


def decision_boundaries(out: Path) -> None:
    """docs/classical_learning.md: the three linear classifiers of its moons example, side by side."""
    from nablagrad.data import make_moons  # noqa: PLC0415

    Xm, ym = make_moons(400, noise=0.2, seed=0)
    fig, axes = plt.subplots(1, 3, figsize=(12, 4))
    for ax, model in zip(axes, (ml.Perceptron(random_state=0), ml.LinearSVC(), ml.LogisticRegression())):
        viz.plot_decision_boundary(model.fit(Xm, ym), Xm, ym, ax=ax)
        ax.set_title(type(model).__name__)
    viz.save_figure(fig, out / "decision_boundaries.png")


def mnist_pictures(out: Path) -> None:
    """docs/mnist.md: the confusion matrix and the first layer's weights of an MLP trained on 10 000 images."""
    X, y, Xt, yt = ng.data.load_mnist(flatten=True)
    model = ng.nn.MLP([784, 64, 10], activation="relu", seed=0)
    ng.train.fit(model, "cross_entropy", ng.optim.Adam(model.parameters(), lr=1e-3), X[:10000], y[:10000], epochs=3,
                 batch_size=64, seed=0)  # fmt: skip
    pred = ng.train.predict(model, Xt).argmax(1)
    viz.save_figure(viz.plot_confusion_matrix(yt, pred), out / "mnist_confusion.png")
    viz.save_figure(viz.plot_first_layer_weights(model[0].weight, max_units=16), out / "mnist_weights.png")


FIGURES = [three_lines, saturation, symmetry, optimizer_paths, random_steps, kan_edges, consistency, backward_edges,
           computational_graph, training_curves, decision_boundaries, mnist_pictures]  # fmt: skip


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for fig in FIGURES:
        fig(out)
        plt.close("all")
        print(f"{fig.__name__}.png")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "docs" / "figures")
