"""mmstudy: build, stress and audit multimodal recommendation pipelines."""
import os as _os

# OpenMP spins idle worker threads by default; whenever anything else runs on the machine, torch's
# multi-threaded kernels then wait for cores the spinners hold and run several times slower.
# Passive waiting must be chosen before torch loads its OpenMP runtime, so it is set here, on the
# package's first import; a value the user exported wins (README, "Running large studies").
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
