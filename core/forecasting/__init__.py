"""Price forecasts: multi-horizon tree ensemble with validated shrinkage and conformal
intervals. Serving entry point: :func:`predict_latest`."""
