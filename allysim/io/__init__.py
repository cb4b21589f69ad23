"""Game files in and out: Gambit's .nfg (read and write) and .efg (read, via pygambit),
and atomic writes."""
from .nfg import GameFile, load_game, read_nfg, to_nfg

__all__ = ["GameFile", "load_game", "read_nfg", "to_nfg"]
