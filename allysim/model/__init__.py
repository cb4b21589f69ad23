"""Game representation: model files compiled into batched payoff functions."""
from .compiler import Model, Parameter, compile_model, list_models, load_model
from .expr import Expr, Namespace, evaluate, parse

__all__ = ["Model", "Parameter", "compile_model", "list_models", "load_model",
           "Expr", "Namespace", "evaluate", "parse"]
