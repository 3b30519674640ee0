"""`python -m gpuad`: the BPTT memory experiment."""
from .experiment.cli import main

raise SystemExit(main())
