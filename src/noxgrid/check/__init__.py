"""Every finding of ``noxgrid check``: drift, stale locks, policy."""
