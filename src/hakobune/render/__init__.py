"""Pure functions from the site model to what Docker and the ops helpers consume."""
