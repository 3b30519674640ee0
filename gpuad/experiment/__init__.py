"""The BPTT memory experiment behind `python -m gpuad` (see `cli.main`)."""
