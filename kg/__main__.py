"""``python -m kg`` is the ``medgrade`` command."""

from kg.cli import main

main()
