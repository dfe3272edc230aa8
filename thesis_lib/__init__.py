"""The verified implementations behind the executable companion to the thesis
"On variational autoencoders: theory and applications".

Each module holds one concept; docstrings cite the thesis statement they implement. Layers:
the top-level modules are the theory the chapters teach; `experiments` names the trained models;
`infra` holds data, configuration, training and checkpoints; `book` the pages, figures and explorers.
"""

from .infra.device import apply_precision_policy
from .infra.emulated_precision import enable_from_environment

__version__ = "0.1.0"

# full fp32 on every device (thesis_lib.infra.device explains why); THESIS_EMULATE_CUDA_FP32=1 also
# rounds the CPU's convolutions and matrix products as CUDA's fp32 kernels would under these flags
apply_precision_policy()
enable_from_environment()
