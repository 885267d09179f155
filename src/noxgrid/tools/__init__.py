"""Tools at the edge: the only modules that start processes or open sockets (the runner,
uv, docker, git, interpreters, the package index). Each is a thin object tests can swap."""
