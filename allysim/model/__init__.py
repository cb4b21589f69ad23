"""Game representation: model files compiled into batched payoff functions."""
from .compiler import (Model, Parameter, compile_model, is_model_file, list_models, load_model,
                       read_toml)
from .expr import Expr, Namespace, evaluate, parse

__all__ = ["Model", "Parameter", "compile_model", "is_model_file", "list_models", "load_model",
           "read_toml", "Expr", "Namespace", "evaluate", "parse"]
