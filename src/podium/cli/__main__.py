"""``python -m podium.cli``: the same as the ``podium`` script."""

from podium.cli import main

main()
