"""thesis_lib.experiments.vaes: the registered VAE experiments' configurations and models against the values
stated in its docstring and in Burda et al. (2015), the likelihood protocol, and a short real training run."""

import dataclasses

import torch

from thesis_lib import likelihood, vae
from thesis_lib.experiments import datasets
from thesis_lib.experiments import vaes as vx
from thesis_lib.experiments.datasets import DATASETS
from thesis_lib.experiments.experiment import registered, spec_key
from thesis_lib.infra.data import load_mnist
from thesis_lib.infra.training import evaluate
from thesis_lib.vae import VAE, beta_negative_elbo


def test_every_experiment_is_registered_for_make_reproduce():
    names = [e.name for e in vx.EXPERIMENTS]
    assert len(names) == len(set(names)) == 11
    assert set(names) <= set(registered())


def test_budgets():
    for exp in vx.EXPERIMENTS:
        quick, full = exp.config("quick"), exp.config("full")
        assert quick.epochs < full.epochs
        assert dataclasses.replace(quick, epochs=full.epochs) == full  # only the length differs
        assert full.batch_size == 100 and full.optimizer == "adam" and full.lr == 1e-3
    nll = vx.LIKELIHOOD.config("full")
    assert nll.adam_eps == 1e-4 and nll.lr_schedule == "burda"  # Burda et al. (2015)
    assert vx.LIKELIHOOD.evaluation is vx.likelihood_protocol


def test_the_recipe_models_differ_from_the_likelihood_model_only_where_they_say():
    """vae-mnist-nll-recipe: + output bias from the data and a KL warm-up; iwae-mnist-nll: + the bias
    and the IWAE bound (k = 5) as the objective; same widths, activation, optimiser and schedule."""
    base = vx.LIKELIHOOD.spec("full")
    recipe, iwae = vx.RECIPE.spec("full"), vx.IWAE.spec("full")
    assert recipe["architecture"] == iwae["architecture"] == base["architecture"] | {"output_bias": "train-mean-logit"}
    assert recipe["training"] == base["training"] | {"kl_warmup_epochs": vx.KL_WARMUP_EPOCHS}
    assert iwae["training"] == base["training"] and iwae["objective"] == "negative-iwae-bound-k5"
    assert vx.RECIPE.config("full").epochs == vx.IWAE.config("full").epochs == 1093
    assert vx.IWAE_DREG.config("full").epochs == 364
    assert vx.STAGE_ENDS == (1, 4, 13, 40, 121, 364, 1093, 3280)
    mean = load_mnist("train").images.reshape(60_000, -1).double().mean(0) / 255
    for exp in (vx.RECIPE, vx.IWAE):
        torch.manual_seed(0)
        bias = exp.build().decoder.layers[-1].b.detach()
        torch.testing.assert_close(bias, torch.logit(mean.clamp(1e-3, 1 - 1e-3)).float())


def test_models_are_the_stated_architectures():
    two_d, nll = vx.TWO_D.build(), vx.LIKELIHOOD.build()
    assert two_d.encoder.widths == (784, 512, 256, 4) and two_d.decoder.widths == (2, 256, 512, 784)
    assert nll.encoder.widths == (784, 200, 200, 100) and nll.decoder.widths == (50, 200, 200, 784)
    assert nll.encoder.activations == ("tanh", "tanh", "identity")
    for beta, exp in vx.BETA.items():
        model = exp.build()
        assert isinstance(model, VAE) and model.beta == beta and model.encoder.widths == (784, 400, 40)
        assert exp.objective_function is beta_negative_elbo
    assert all(e.objective == "negative-elbo" for e in (vx.TWO_D, vx.LIKELIHOOD))


def test_beta_models_have_distinct_cache_keys():
    keys = {spec_key(dataclasses.replace(exp, name="same-name").spec("full")) for exp in vx.BETA.values()}
    assert len(keys) == len(vx.BETAS)


def test_short_training_through_the_experiment_lowers_the_test_objective(cache, monkeypatch):
    train_x, _, test_x, _ = datasets.mnist()
    monkeypatch.setitem(DATASETS, "mnist-3000", lambda: (train_x[:3000], None, test_x[:500], None))
    small = dataclasses.replace(vx.BETA[1.0], data="mnist-3000")
    torch.manual_seed(0)
    before = evaluate(small.build(), small.objective_function, test_x[:500])
    model, history = small.trained("quick", device="cpu", use_committed=False)
    again, cached = small.trained("quick", device="cpu", use_committed=False)
    assert history.test[-1] < 0.6 * before and history.origin == "trained"
    assert cached.origin == "cache" and cached.test == history.test
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), again.state_dict().values()))


def test_likelihood_protocol_scores_all_test_images_binarised_once_with_k_samples(monkeypatch):
    """The protocol hands evaluate_likelihood exactly the 10,000 test images binarised with seed 0 (or the
    first ``images``) and k, and names the report's four numbers."""
    seen = {}

    def spy(model, x, k):
        seen.update(x=x, k=k)
        return likelihood.LikelihoodReport(nll=1.0, negative_elbo=2.0, reconstruction=3.0, kl=4.0, k=k,
                                           images=len(x))

    monkeypatch.setattr(vx, "evaluate_likelihood", spy)
    torch.manual_seed(0)
    model = vx.LIKELIHOOD.build()
    scores = vx.likelihood_protocol(model, k=7)
    test = load_mnist("test").images
    assert seen["k"] == 7 and torch.equal(seen["x"], vae.fixed_binarisation(test, seed=0)) and len(seen["x"]) == 10_000
    assert scores == {"test_nll_k7": 1.0, "test_negative_elbo_k7": 2.0, "test_reconstruction": 3.0, "test_kl": 4.0}
    vx.likelihood_protocol(model, k=3, images=250)
    assert torch.equal(seen["x"], vae.fixed_binarisation(test[:250], seed=0))


def test_each_vae_has_its_stated_name_data_and_objective():
    assert {e.name: (e.data, e.objective) for e in vx.EXPERIMENTS} == {
        "vae-mnist-2d": ("mnist", "negative-elbo"), "vae-mnist-nll": ("mnist", "negative-elbo"),
        "vae-mnist-nll-recipe": ("mnist", "negative-elbo"), "iwae-mnist-nll": ("mnist", "negative-iwae-bound-k5"),
        "iwae-dreg-mnist-nll": ("mnist", "negative-iwae-bound-k5-dreg"),
        **{f"vae-beta-{b}": ("mnist", "beta-negative-elbo") for b in ("0.5", "1", "2", "4")},
        "vae-gauss-mse-sum": ("mnist", "mse-sum-negative-elbo"),
        "vae-gauss-mse-mean": ("mnist", "mse-mean-negative-elbo")}


def test_the_gaussian_pair_has_the_stated_widths():
    for exp in vx.GAUSSIAN.values():
        model = exp.build()
        assert model.encoder.widths == (784, 400, 40) and model.decoder.widths == (20, 400, 784)


def test_the_likelihood_curve_scores_the_first_2000_test_images_with_k_1000(monkeypatch):
    calls = []
    monkeypatch.setattr(vx, "likelihood_protocol", lambda model, k, images: calls.append((model, k, images)) or {})
    model = object()
    assert vx.likelihood_curve(model) == {} and calls == [(model, 1000, 2000)]
    assert vx.RECIPE.curve is vx.IWAE.curve is vx.IWAE_DREG.curve is vx.likelihood_curve
