"""``python -m neurosim``: the same as the ``neurosim`` command."""

from neurosim.cli.main import main

if __name__ == "__main__":  # the guard lets worker processes (spawn) import this module
    main()
