"""Pure-JAX research codebase for biosignal and sensor time-series models."""
