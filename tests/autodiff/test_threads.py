"""Grad mode belongs to a thread (as in PyTorch): one thread's no_grad never turns off another's tape."""

import threading

import numpy as np
import pytest
import torch

import nablagrad as ng


def test_no_grad_in_another_thread_leaves_this_thread_recording():
    inside, release = threading.Event(), threading.Event()

    def evaluate():
        with ng.no_grad():
            inside.set()
            release.wait(10)

    worker = threading.Thread(target=evaluate)
    worker.start()
    inside.wait(10)
    try:
        x = ng.tensor(np.array([1.0, 2.0]), requires_grad=True)
        y = (x * x).sum()
        assert ng.is_grad_enabled() and y.requires_grad
        y.backward()
        np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])
    finally:
        release.set()
        worker.join()
    assert ng.is_grad_enabled()


def test_interleaved_no_grad_in_two_threads_restores_both():
    """A enters, B enters, A leaves, B leaves: with one global flag the last exit left it off."""
    steps = [threading.Event() for _ in range(3)]
    seen = {}

    def a():
        with ng.no_grad():
            steps[0].set()
            steps[1].wait(10)
        seen["a"] = ng.is_grad_enabled()
        steps[2].set()

    def b():
        steps[0].wait(10)
        with ng.no_grad():
            steps[1].set()
            steps[2].wait(10)
        seen["b"] = ng.is_grad_enabled()

    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == {"a": True, "b": True}
    assert ng.is_grad_enabled()


def test_a_new_thread_starts_with_grad_on_like_torch():
    result = {}

    def probe():
        result["ng"], result["torch"] = ng.is_grad_enabled(), torch.is_grad_enabled()

    with ng.no_grad(), torch.no_grad():
        t = threading.Thread(target=probe)
        t.start()
        t.join()
    assert result == {"ng": True, "torch": True}


def test_the_switch_counter_returns_to_zero_after_blocks_and_errors():
    """Ops skip the thread-local mode while no thread has a switch set (mode.active == 0): the
    count must come back down after every block, also one left by an exception."""
    from nablagrad.autodiff import grad_mode as mode

    base = mode.active
    with ng.no_grad():
        assert mode.active == base + 1
        with pytest.raises(ValueError), ng.enable_grad():
            assert mode.active == base + 2 and (ng.tensor([1.0], requires_grad=True) * 2).requires_grad
            raise ValueError
        assert mode.active == base + 1 and not (ng.tensor([1.0], requires_grad=True) * 2).requires_grad
    assert mode.active == base
    assert (ng.tensor([1.0], requires_grad=True) * 2).requires_grad
