"""``python -m centerir``: see :mod:`centerir.cli`. ``prepare`` starts from
:mod:`centerir.prepare_cli`, without importing torch (~300 MiB of memory it never uses)."""

import sys

if sys.argv[1:2] == ["prepare"]:
    from centerir.prepare_cli import main
else:
    from centerir.cli import main

raise SystemExit(main())
