"""The grading engine: plain Python, no database. Artifact in, metrics or a typed error out."""

import os

# OpenMP threads that spin while waiting collapse throughput (measured 15x slower) when the
# worker shares its cores with anything else. Must be set before torch is first imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
