"""``python -m neurosim``: the same as the ``neurosim`` command."""

from neurosim.cli.main import main

main()
