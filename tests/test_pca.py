"""PCA against NumPy's SVD, torch.pca_lowrank and the discarded-eigenvalue identity."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from thesis_lib.pca import fit_pca


def _data(n, d, seed=0):
    gen = torch.Generator().manual_seed(seed)
    scales = torch.logspace(0, -2, d)  # distinct variances: a well-separated spectrum
    return torch.randn(n, d, generator=gen, dtype=torch.float64).float() * scales + torch.rand(d, generator=gen)


@pytest.mark.parametrize("method", ["gram", "svd"])
def test_matches_numpy_svd_of_centred_data(method):
    x = _data(300, 12)
    pca = fit_pca(x, 5, method=method)
    xc = x.double().numpy() - x.double().numpy().mean(0)
    _, s, vh = np.linalg.svd(xc, full_matrices=False)
    np.testing.assert_allclose(pca.singular_values.numpy(), s, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(pca.mean.numpy(), x.double().numpy().mean(0), atol=1e-6)
    # the same axes up to sign, i.e. the same projector onto each axis
    for v, w in zip(pca.components.double().numpy(), vh[:5]):
        np.testing.assert_allclose(np.outer(v, v), np.outer(w, w), atol=1e-4)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(20, 80), d=st.integers(2, 15), data=st.data())
def test_training_error_is_sum_of_discarded_eigenvalues(n, d, data):
    k = data.draw(st.integers(1, min(n, d)))
    x = _data(n, d, seed=n * d)
    pca = fit_pca(x, k, method="svd")
    discarded = pca.explained_variance[k:].double().sum().item()
    assert pca.mse(x) == pytest.approx(discarded / d, rel=1e-4, abs=1e-8)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(5, 60), d=st.integers(2, 15), k=st.integers(1, 15))
def test_components_are_orthonormal(n, d, k):
    k = min(k, n, d)
    pca = fit_pca(_data(n, d, seed=n + d), k, method="svd")
    torch.testing.assert_close(pca.components @ pca.components.T, torch.eye(k), atol=1e-5, rtol=0)


def test_subspace_matches_torch_pca_lowrank():
    x = _data(500, 20)
    pca = fit_pca(x, 4)
    torch.manual_seed(0)
    _, _, v = torch.pca_lowrank(x.double(), q=10, center=True, niter=10)  # oversampled, then cut to 4
    v = v[:, :4]
    ours = pca.components.double().T @ pca.components.double()
    theirs = v @ v.T
    torch.testing.assert_close(ours, theirs, atol=1e-4, rtol=0)


def test_codes_and_reconstruction_match_scikit_learns_pca():
    """Codes agree with scikit-learn's up to each component's sign; reconstructions (sign-free) agree,
    through decode(codes) and through the call."""
    from sklearn.decomposition import PCA as SkPCA

    x = _data(200, 9)
    pca = fit_pca(x, 3)
    reference = SkPCA(n_components=3, svd_solver="full").fit(x.double().numpy())
    z, z_ref = pca.encode(x), torch.from_numpy(reference.transform(x.double().numpy())).float()
    assert z.shape == (200, 3)
    torch.testing.assert_close(z.abs(), z_ref.abs(), atol=1e-4, rtol=1e-4)
    rebuilt = torch.from_numpy(reference.inverse_transform(reference.transform(x.double().numpy()))).float()
    torch.testing.assert_close(pca.decode(z), rebuilt, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(pca(x), rebuilt, atol=1e-4, rtol=1e-4)
    assert (pca(x) - x).abs().max() > 1e-2  # three of nine components do not rebuild the data
    full = fit_pca(x, 9)
    torch.testing.assert_close(full(x), x, atol=1e-4, rtol=0)  # all components: exact reconstruction


def test_truncate_equals_fitting_fewer_components():
    x = _data(150, 10)
    torch.testing.assert_close(fit_pca(x, 6).truncate(2).components, fit_pca(x, 2).components)
    assert fit_pca(x, 6).truncate(2).mse(x) > fit_pca(x, 6).mse(x)


def test_uint8_images_are_scaled_to_unit_interval():
    gen = torch.Generator().manual_seed(1)
    images = torch.randint(0, 256, (40, 4, 4), generator=gen, dtype=torch.uint8)
    torch.testing.assert_close(fit_pca(images, 3).components, fit_pca(images.float() / 255, 3).components)
    assert fit_pca(images, 3)(images).shape == (40, 16)


def test_truncating_keeps_any_number_of_components_from_one_to_all():
    x = _data(60, 6)
    full = fit_pca(x, 4)
    torch.testing.assert_close(full.truncate(1).components, fit_pca(x, 1).components)
    assert torch.equal(full.truncate(4).components, full.components)


def test_svd_keeps_the_smallest_singular_value_that_the_gram_matrix_loses():
    """The docstring's trade-off, against NumPy: with one direction 10⁻⁵ as wide as the others, the float32
    Gram matrix rounds its s² away (eps32·s_max² ≫ s_min²) and the SVD does not."""
    gen = torch.Generator().manual_seed(2)
    rotation = torch.linalg.qr(torch.randn(5, 5, generator=gen, dtype=torch.float64)).Q  # thin axis not a pixel
    x = torch.randn(400, 5, generator=gen, dtype=torch.float64) * torch.tensor([1.0, 0.9, 0.8, 0.7, 1e-5]) @ rotation
    s_ref = np.linalg.svd(x.numpy() - x.numpy().mean(0), compute_uv=False)
    x = x.float()
    assert fit_pca(x, 2, method="svd").singular_values[-1].item() == pytest.approx(s_ref[-1], rel=0.05)
    assert abs(fit_pca(x, 2, method="gram").singular_values[-1].item() - s_ref[-1]) > s_ref[-1]


def test_bad_input():
    x = _data(10, 4)
    with pytest.raises(ValueError, match="k=5"):
        fit_pca(x, 5)
    with pytest.raises(ValueError, match="^method='qr' is not allowed; choose one of 'gram', 'svd'$"):
        fit_pca(x, 2, method="qr")
    with pytest.raises(ValueError, match="k=3"):
        fit_pca(x, 2).truncate(3)
    for k in (True, 0):
        with pytest.raises(ValueError, match=f"^k={k!r} is not allowed; it must be an integer with 1 <= k"):
            fit_pca(x, 2).truncate(k)
        with pytest.raises(ValueError, match=f"^k={k!r} is not allowed; it must be an integer with 1 <= k"):
            fit_pca(x, k)
    for images in (torch.zeros(5), [[0.0, 1.0]]):  # one axis: no pixel dimension; not a tensor
        with pytest.raises(ValueError, match=r"^images=.* is not allowed; it must be a torch.Tensor \[N, \.\.\.\] "
                                             r"with N >= 1 images of at least one pixel$"):
            fit_pca(images, 1)
    with pytest.raises(ValueError, match="7 pixels"):
        fit_pca(x, 2).encode(torch.zeros(3, 7))
    with pytest.raises(ValueError, match="codes.shape"):
        fit_pca(x, 2).decode(torch.zeros(3, 3))
