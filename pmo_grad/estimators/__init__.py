"""Gradient estimators: which samples a step uses, and how estimates are combined across steps."""

from pmo_grad.estimators.base import Cost, Estimator, NonFiniteEstimateError
from pmo_grad.estimators.full import FullData
from pmo_grad.estimators.minibatch import Minibatch
from pmo_grad.estimators.recursive import Recursive
from pmo_grad.estimators.tracking import Tracking

__all__ = ["Cost", "Estimator", "FullData", "Minibatch", "NonFiniteEstimateError", "Recursive", "Tracking"]
