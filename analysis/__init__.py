"""Effect estimation and the programme report."""
