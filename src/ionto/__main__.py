"""``python -m ionto``: the same as the ``ionto`` command."""

from ionto.launcher import main

if __name__ == "__main__":
    main()
