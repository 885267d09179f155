"""``python -m noxgrid``."""

from __future__ import annotations

import sys

from noxgrid.cli import main

sys.exit(main())
