"""``python -m allysim.cli``."""
from . import main

main()
