"""The reference service's sessions: every cell of [tool.noxgrid] in pyproject.toml."""

import noxgrid

noxgrid.sessions()
