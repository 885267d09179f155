"""``noxgrid init``: the plan read from a repository, and the files it writes."""
