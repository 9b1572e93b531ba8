"""Input files taken in: the units tree, the roster, plans and facts."""
