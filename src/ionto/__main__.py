"""``python -m ionto``: the same as the ``ionto`` command."""

from ionto.cli import main

if __name__ == "__main__":
    main()
