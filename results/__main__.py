"""``python -m results``: see :mod:`results.cli`."""

from results.cli import main

raise SystemExit(main())
