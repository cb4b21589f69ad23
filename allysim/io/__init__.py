"""Reading and writing: Gambit .nfg files, atomic writes."""
