import contextlib
import copy
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from thesis_lib.infra import emulated_precision as E
from thesis_lib.infra.device import apply_precision_policy

ROOT = Path(__file__).resolve().parent.parent


def numpy_tf32(x: np.ndarray) -> np.ndarray:
    """The nearest value with 10 mantissa bits (ties to even), computed from the exponent with NumPy."""
    mantissa, exponent = np.frexp(x.astype(np.float64))  # x = m 2^e, 0.5 <= |m| < 1
    return (np.round(mantissa * 2.0 ** 11) * 2.0 ** (exponent - 11)).astype(np.float32)


@contextlib.contextmanager
def cuda_defaults():
    """CUDA's default flags (TF32 convolutions, fp32 matrix products) inside, the book's policy after."""
    torch.backends.cudnn.conv.fp32_precision = "tf32"
    torch.backends.cuda.matmul.fp32_precision = "none"
    try:
        yield
    finally:
        apply_precision_policy()


def test_rounding_to_tf32_matches_numpy_ties_and_specials_included():
    g = torch.Generator().manual_seed(0)
    x = torch.cat([torch.randn(10_000, generator=g) * 10.0 ** torch.randint(-30, 30, (10_000,), generator=g),
                   torch.tensor([1 + 2 ** -11, 1 + 3 * 2 ** -11, -(1 + 2 ** -11), 0.0, -0.0, 2 ** -126])])
    np.testing.assert_array_equal(E.round_to_tf32(x).numpy(), numpy_tf32(x.numpy()))
    assert E.round_to_tf32(torch.tensor([1 + 2 ** -11, 1 + 3 * 2 ** -11])).tolist() == [1.0, 1 + 2 ** -9]
    special = torch.tensor([float("inf"), -float("inf"), float("nan")])
    out = E.round_to_tf32(special)
    assert out[:2].tolist() == [float("inf"), -float("inf")] and out[2].isnan()


def test_the_gradient_passes_through_the_rounding():
    x = torch.tensor([1.0001, -3.14159], requires_grad=True)
    E.round_to_tf32(x).mul(torch.tensor([2.0, 5.0])).sum().backward()
    assert x.grad.tolist() == [2.0, 5.0]


def test_convolutions_round_their_operands_only_when_cudas_flag_says_tf32():
    g = torch.Generator().manual_seed(1)
    x, w, b = torch.rand(2, 1, 12, 12, generator=g), torch.randn(3, 1, 3, 3, generator=g), torch.randn(3, generator=g)
    reference = F.conv2d(torch.from_numpy(numpy_tf32(x.numpy())), torch.from_numpy(numpy_tf32(w.numpy())), b)
    plain = F.conv2d(x, w, b)
    with E.EmulatedCudaFp32(), cuda_defaults():
        emulated = F.conv2d(x, w, b)
        module = torch.nn.Conv2d(1, 3, 3)
        module.weight.data, module.bias.data = w, b
        emulated_module = module(x)
        torch.backends.cudnn.conv.fp32_precision = "ieee"
        full = F.conv2d(x, w, b)
        double = F.conv2d(x.double(), w.double(), b.double())
    torch.testing.assert_close(emulated, reference, rtol=0, atol=0)
    torch.testing.assert_close(emulated_module, reference, rtol=0, atol=0)
    assert (emulated - plain).abs().max() > 1e-5
    torch.testing.assert_close(full, plain, rtol=0, atol=0)
    assert double.dtype == torch.float64


def test_matrix_products_round_only_when_cudas_matmul_flag_allows_tf32():
    g = torch.Generator().manual_seed(2)
    a, b = torch.randn(8, 16, generator=g), torch.randn(16, 4, generator=g)
    rounded = torch.from_numpy(numpy_tf32(a.numpy())) @ torch.from_numpy(numpy_tf32(b.numpy()))
    with E.EmulatedCudaFp32(), cuda_defaults():
        as_on_cuda = a @ b  # CUDA's default: full fp32 matrix products
        torch.backends.cuda.matmul.fp32_precision = "tf32"
        results = [a @ b, torch.mm(a, b), torch.matmul(a, b), torch.einsum("ij,jk->ik", a, b),
                   F.linear(a, b.T), torch.addmm(torch.zeros(8, 4), a, b)]
    torch.testing.assert_close(as_on_cuda, a @ b, rtol=0, atol=0)
    for result in results:
        torch.testing.assert_close(result, rounded, rtol=1e-6, atol=1e-6)
        assert (result - a @ b).abs().max() > 1e-4


def chapter_2_3_check():
    """Chapter 2.3's cell: the convolutional autoencoder with F.conv2d against the thesis's formulas."""
    from thesis_lib.conv_layers import use_operator
    from thesis_lib.experiments import architectures
    from thesis_lib.experiments.autoencoders import CONV
    from thesis_lib.infra.data import load_mnist
    from thesis_lib.latent_space import reconstruct

    torch.manual_seed(0)
    conv = architectures.build(CONV.architecture)
    sample = load_mnist("test").images[:64]
    fast = reconstruct(conv, sample)
    slow = reconstruct(use_operator(copy.deepcopy(conv), "thesis"), sample)
    torch.testing.assert_close(fast, slow)


def test_the_emulation_catches_chapter_2_3s_check_under_cudas_defaults_and_the_policy_fixes_it():
    with E.EmulatedCudaFp32(), cuda_defaults():
        with pytest.raises(AssertionError, match="Tensor-likes are not close"):
            chapter_2_3_check()
        apply_precision_policy()
        chapter_2_3_check()


def test_the_environment_switches_the_emulation_on_and_refuses_other_values():
    script = ("import torch, thesis_lib, torch.nn.functional as F\n"
              "from thesis_lib.infra.emulated_precision import round_to_tf32\n"
              "torch.backends.cudnn.conv.fp32_precision = 'tf32'\n"
              "x, w = torch.rand(1, 1, 5, 5), torch.randn(1, 1, 3, 3)\n"
              "assert torch.equal(F.conv2d(x, w), F.conv2d(round_to_tf32(x), round_to_tf32(w)))\n")
    run = [sys.executable, "-c", script]
    subprocess.run(run, cwd=ROOT, check=True, env={**os.environ, E.ENV: "1"})
    assert subprocess.run(run, cwd=ROOT, env={**os.environ, E.ENV: "0"}).returncode != 0
    bad = subprocess.run(run, cwd=ROOT, env={**os.environ, E.ENV: "yes"}, capture_output=True, text=True)
    assert "THESIS_EMULATE_CUDA_FP32='yes' is not allowed; choose one of '0', '1'" in bad.stderr
