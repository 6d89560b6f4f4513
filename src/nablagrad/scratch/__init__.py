"""Backpropagation by hand (lectures 002 and 004): layers with ``forward(inputs)`` and a
hand-written ``backward(dL_dZ)``, in NumPy only — no autodiff engine.

Each layer keeps what its backward pass needs from the forward pass, and ``backward`` turns the
gradient of the loss with respect to its output into the gradient with respect to its input
(storing the gradients of its own parameters on the way).  ``Network`` chains them.  The engine
(``nablagrad.nn``) computes the same gradients automatically; the tests check they are equal.
"""

from .layers import Dense, Layer, ReLU, Sigmoid, Softmax, Tanh
from .losses import MSE, CrossEntropy, Loss
from .network import Network

__all__ = ["Layer", "Dense", "Sigmoid", "Tanh", "ReLU", "Softmax", "Loss", "MSE", "CrossEntropy", "Network"]
