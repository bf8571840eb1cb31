"""``python -m centerir``: see :mod:`centerir.cli`."""

from centerir.cli import main

raise SystemExit(main())
