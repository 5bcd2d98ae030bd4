"""``python -m installation`` is the same as the ``metamorph`` command."""

from installation.cli import main

raise SystemExit(main())
