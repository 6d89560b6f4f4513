"""``History``: per-epoch logs and the lectures' running estimates of the empirical risk."""

from __future__ import annotations

from collections import defaultdict


class RunningRisk:
    """Running estimates of the empirical risk from per-step losses ``ε_t`` (lecture 000):

    arithmetic mean ``Q_t = ε_t / t + (1 − 1/t) Q_{t−1}`` and
    exponential moving average ``Q_t = λ ε_t + (1 − λ) Q_{t−1}`` (started at ``Q_1 = ε_1``).
    """

    def __init__(self, ema_lambda: float = 0.1):
        if not 0 < ema_lambda <= 1:
            raise ValueError(f"ema_lambda must lie in (0, 1], got {ema_lambda}")
        self.lam = ema_lambda
        self.t = 0
        self.mean = 0.0
        self.ema = 0.0

    def update(self, loss: float) -> None:
        self.t += 1
        self.mean = loss / self.t + (1 - 1 / self.t) * self.mean
        self.ema = loss if self.t == 1 else self.lam * loss + (1 - self.lam) * self.ema

    def state(self) -> dict:
        return {"t": self.t, "mean": self.mean, "ema": self.ema, "lam": self.lam}

    def load(self, s: dict) -> None:
        self.t, self.mean, self.ema, self.lam = s["t"], s["mean"], s["ema"], s["lam"]


class History:
    """``history.history["loss"]`` (one value per epoch), ``history["val_accuracy"]`` …,
    ``history.steps`` (per-step loss, running mean and EMA) and ``stop_reason``."""

    def __init__(self) -> None:
        self.history: dict[str, list[float]] = defaultdict(list)
        self.epoch: list[int] = []
        self.steps: dict[str, list[float]] = {"loss": [], "loss_mean": [], "loss_ema": []}
        self.stop_reason = ""

    def __getitem__(self, key: str) -> list[float]:
        return self.history[key]

    def __contains__(self, key: str) -> bool:
        return key in self.history

    def log_epoch(self, epoch: int, logs: dict[str, float]) -> None:
        self.epoch.append(epoch)
        for k, v in logs.items():
            self.history[k].append(float(v))

    def to_dict(self) -> dict:
        return {"history": dict(self.history), "epoch": self.epoch, "steps": self.steps, "stop_reason": self.stop_reason}

    @classmethod
    def from_dict(cls, d: dict) -> History:
        h = cls()
        h.history.update({k: list(v) for k, v in d["history"].items()})
        h.epoch = list(d["epoch"])
        h.steps = {k: list(v) for k, v in d["steps"].items()}
        h.stop_reason = d.get("stop_reason", "")
        return h

    def __repr__(self) -> str:
        last = {k: round(v[-1], 5) for k, v in self.history.items() if v}
        return f"History(epochs={len(self.epoch)}, last={last}, stop_reason={self.stop_reason!r})"
