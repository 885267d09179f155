"""The model: configuration, matrix, locks, policy, drift, results. No process, no network,
no file written: each module reads files at most, and is tested without starting anything."""
