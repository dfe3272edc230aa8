"""Show that the second CPU-kernel configuration of `make test-portable` really changes low bits.

Prints the ATen CPU capability in use and an md5 prefix of the float32 result of a few operations
(matrix product, convolution, long sum, exp, sigmoid, log-softmax). Run it once as is and once under
the portable environment (`make kernel-probe` does both): the digests differ where the kernels differ.
"""

import hashlib

import torch
import torch.nn.functional as F


def digest(t: torch.Tensor) -> str:
    return hashlib.md5(t.contiguous().numpy().tobytes()).hexdigest()[:8]


def main() -> None:
    torch.manual_seed(0)
    a, b = torch.randn(257, 783), torch.randn(783, 129)
    x, w = torch.randn(8, 3, 61, 61), torch.randn(5, 3, 5, 5)
    v = torch.randn(1_000_003)
    results = {"matmul": a @ b, "conv2d": F.conv2d(x, w), "sum": v.sum(), "exp": v.exp(),
               "sigmoid": torch.sigmoid(v), "log_softmax": torch.log_softmax(a, 1)}
    print(f"{torch.backends.cpu.get_cpu_capability():8s} threads {torch.get_num_threads()}  "
          + "  ".join(f"{name} {digest(t)}" for name, t in results.items()))


if __name__ == "__main__":
    main()
