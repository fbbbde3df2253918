"""Training students: teacher pseudo-labels, cached training arrays, the training loop."""
