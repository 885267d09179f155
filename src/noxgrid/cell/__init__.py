"""One cell's run: a module per stage, in order, and the loop that runs them."""
