"""DistributedOptimizer is an ng.optim.Optimizer and an instance of the wrapped optimiser's class (Horovod's
wrapper subclasses it), while every method still runs on the wrapped optimiser: one world of one rank, where the
all-reduce is the identity, so the oracle is the plain optimiser's own trajectory."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import nablagrad as ng
from nablagrad import optim

D = ng.distributed


def _model():
    return ng.nn.MLP([3, 4, 2], seed=0)


@pytest.mark.parametrize("cls", [optim.SGD, optim.Adam, optim.AdamW, optim.RMSprop, optim.Adagrad, optim.LBFGS])
def test_the_wrapper_is_an_optimizer_of_the_wrapped_class(cls):
    opt = cls(_model().parameters(), lr=0.01)
    wrapped = D.DistributedOptimizer(opt, world=D.SingleProcess())
    assert isinstance(wrapped, optim.Optimizer) and isinstance(wrapped, cls) and isinstance(wrapped, D.DistributedOptimizer)
    assert type(wrapped).__name__ == cls.__name__ and D.unwrap(wrapped) is opt
    assert wrapped.param_groups is opt.param_groups and wrapped.state is opt.state and wrapped.defaults is opt.defaults


def test_every_method_runs_on_the_wrapped_optimizer_and_the_trajectory_is_the_plain_one():
    X = np.random.default_rng(0).standard_normal((16, 3))
    runs = []
    for wrap in (False, True):
        m = _model().double()
        opt = optim.Adam(m.parameters(), lr=0.01)
        if wrap:
            opt = D.DistributedOptimizer(opt, world=D.SingleProcess())
        sched = optim.lr_scheduler.StepLR(opt, 2, gamma=0.5)  # a schedule takes the wrapper (an Optimizer)
        for _ in range(5):
            opt.zero_grad()
            ng.nn.MSELoss()(m(ng.tensor(X)), X[:, :2]).backward()
            opt.step()
            sched.step()
        runs.append((m.state_dict(), opt.state_dict(), opt.param_groups[0]["lr"]))
    for k in runs[0][0]:
        np.testing.assert_array_equal(runs[0][0][k], runs[1][0][k])
    assert runs[0][2] == runs[1][2] == 0.01 * 0.25
    assert runs[1][1]["state"][0]["step"] == 5


def test_the_wrapper_copies_pickles_and_still_refuses_bad_input():
    opt = optim.SGD(_model().parameters(), lr=0.1)
    wrapped = D.DistributedOptimizer(opt, world=D.SingleProcess())
    for other in (copy.deepcopy(wrapped), pickle.loads(pickle.dumps(wrapped))):
        assert isinstance(other, optim.SGD) and isinstance(other, D.DistributedOptimizer)
        assert other.optimizer is not opt and other.param_groups[0]["lr"] == 0.1
    with pytest.raises(TypeError, match="already distributed"):
        D.DistributedOptimizer(wrapped)
    with pytest.raises(TypeError, match="expected an ng.optim optimiser"):
        D.DistributedOptimizer("adam")
    wrapped.param_groups[0]["lr"] = 0.5  # writes reach the wrapped optimiser
    assert opt.param_groups[0]["lr"] == 0.5
