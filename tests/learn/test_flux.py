"""Flux Matching's host-side estimator against closed forms, W2 and curl against closed
forms, Langevin sampling, and `train --objective flux` end to end (same seed, same run;
resume bit for bit). The parameter gradient (the adjoint) is tested against central
differences in tests/host/test_adjoint.py."""

from pathlib import Path

import numpy as np
import pytest

import neurosim
from neurosim.data.datasets import toy_points
from neurosim.io.checkpoint_h5 import read_checkpoint
from neurosim.learn.flux import (
    Directions,
    Probes,
    curl,
    field_jacobian,
    kernel_score,
    stein_gradient,
    stein_operator,
)
from neurosim.samplers.langevin import annealed_langevin, langevin, noise_levels
from neurosim.scores.distribution import wasserstein2

ROOT = Path(__file__).resolve().parents[2]
FLUX = ROOT / "netlists/ring8_flux.cir"
ANNEALED = ROOT / "netlists/ring8_flux_annealed.cir"
COVARIANCE = np.array([[0.5, 0.2], [0.2, 0.3]])
PRECISION = np.linalg.inv(COVARIANCE)
ROTATION = np.array([[0.0, 1.5], [-1.5, 0.0]])  # constant, antisymmetric


def gaussian_score(z):
    """The exact score of N(0, Σ) and its divergence."""
    return -z @ PRECISION.T, np.full(z.shape[0], -np.trace(PRECISION))


def linear_field(matrix):
    return lambda z: z @ matrix.T


def probes(d=2):
    return Probes(Directions(np.eye(d), 1.0), Directions(np.eye(d), 1.0))


def test_a_rotational_field_with_the_gaussian_stationary_has_no_stein_residual():
    z = np.random.default_rng(0).normal(size=(50, 2))
    # f = (I + A)∇log p keeps N(0, Σ) stationary for any constant antisymmetric A
    right = linear_field(-(np.eye(2) + ROTATION) @ PRECISION)
    r, f = stein_operator(right, z, gaussian_score, probes())
    assert np.abs(r).max() < 1e-8
    np.testing.assert_allclose(f, right(z))
    # a field with another stationary law (twice the score): r ≠ 0, its gradient exact
    wrong = -2.0 * PRECISION
    r, _ = stein_operator(linear_field(wrong), z, gaussian_score, probes())
    assert np.mean(r**2) > 1.0
    # r = tr K + tr P − zᵀKᵀPz − zᵀP²z for f = Kz, s = −Pz: ∇r = −(KᵀP + PK)z − 2P²z
    k, p = wrong, PRECISION
    expected = (-(k.T @ p + p @ k) @ z.T - 2 * p @ p @ z.T).T
    grad = stein_gradient(linear_field(wrong), z, gaussian_score, probes())
    np.testing.assert_allclose(grad, expected, rtol=1e-6, atol=1e-8)


def test_rademacher_probes_estimate_the_trace_without_bias():
    z = np.random.default_rng(1).normal(size=(1, 12))
    matrix = np.random.default_rng(2).normal(size=(12, 12))
    vectors = np.random.default_rng(3).choice([-1.0, 1.0], size=(20000, 12))
    many = Probes(Directions(vectors, 1 / 20000), Directions(np.eye(12), 1.0))
    r, _ = stein_operator(
        linear_field(matrix), z, lambda q: (np.zeros_like(q), np.zeros(len(q))), many
    )
    off = matrix - np.diag(np.diag(matrix))
    spread = np.sqrt(np.sum((off + off.T) ** 2) / 2 / 20000)  # Hutchinson's σ, Rademacher
    assert abs(r[0] - np.trace(matrix)) < 5 * spread


def test_the_kernel_score_is_the_gradient_of_the_smoothed_log_density():
    data = np.random.default_rng(4).normal(size=(30, 2))
    z, sigma2, h = np.array([[0.3, -0.2], [1.0, 0.5]]), 0.2, 1e-5

    def log_density(q):
        d2 = ((q[:, None, :] - data[None]) ** 2).sum(-1)
        return np.log(np.exp(-d2 / (2 * sigma2)).sum(1))

    s, div = kernel_score(z, data, sigma2)
    eye = np.eye(2)
    numeric = np.stack(
        [(log_density(z + h * e) - log_density(z - h * e)) / (2 * h) for e in eye], axis=1
    )
    np.testing.assert_allclose(s, numeric, rtol=1e-6)
    divergence = sum(
        (kernel_score(z + h * e, data, sigma2)[0] - kernel_score(z - h * e, data, sigma2)[0])[:, k]
        / (2 * h)
        for k, e in enumerate(eye)
    )
    np.testing.assert_allclose(div, divergence, rtol=1e-5)


def test_w2_and_curl_match_their_closed_forms():
    x = np.random.default_rng(5).normal(size=(300, 2))
    shift = np.array([0.3, -0.4])
    assert wasserstein2(x, x + shift) == pytest.approx(0.5, rel=1e-12)  # a translation
    permuted = x[np.random.default_rng(6).permutation(300)]
    assert wasserstein2(x, permuted) == pytest.approx(0.0, abs=1e-12)
    matrix = np.array([[-1.0, 0.7], [-0.2, -2.0]])
    jac = field_jacobian(linear_field(matrix), x[:5])
    np.testing.assert_allclose(jac, np.broadcast_to(matrix, (5, 2, 2)), atol=1e-9)
    np.testing.assert_allclose(curl(jac), abs(-0.2 - 0.7), rtol=1e-9)
    assert np.all(curl(field_jacobian(linear_field(-PRECISION), x[:5])) < 1e-9)


def test_langevin_of_the_exact_score_keeps_the_gaussian():
    rng = np.random.default_rng(7)
    x0 = rng.multivariate_normal(np.zeros(2), COVARIANCE, 4000)
    field = linear_field(-(np.eye(2) + ROTATION) @ PRECISION)  # rotational, same law
    x = langevin(x0, field, 0.002, 500, rng)
    np.testing.assert_allclose(np.cov(x.T), COVARIANCE, atol=0.04)
    assert wasserstein2(x[:1000], toy_like(rng)) < 0.15


def test_annealed_langevin_of_the_exact_score_ends_at_the_smoothed_gaussian():
    """The reverse-time SDE along the score of N(0, Σ + σ²I) at each level, from
    σ_max·N(0, I): at σ_min its samples are N(0, Σ + σ_min²I) (the rotation, an
    antisymmetric A·s, changes nothing)."""
    rng = np.random.default_rng(11)

    def field(z, sigma):
        precision = np.linalg.inv(COVARIANCE + sigma**2 * np.eye(2))
        return -z @ ((np.eye(2) + 0.3 * ROTATION) @ precision).T

    sigmas = noise_levels(0.05, 3.0, 400)
    assert sigmas[0] == pytest.approx(3.0) and sigmas[-1] == pytest.approx(0.05)
    assert np.all(np.diff(np.log(sigmas)) == pytest.approx(np.log(0.05 / 3.0) / 400))
    x = annealed_langevin(3.0 * rng.standard_normal((6000, 2)), field, sigmas, rng)
    np.testing.assert_allclose(np.cov(x.T), COVARIANCE + 0.05**2 * np.eye(2), atol=0.03)
    # Tweedie's step along the score: E[x0 | x] = x + σ²·s(x) = Σ(Σ + σ²I)⁻¹x, whose law is
    # N(0, Σ(Σ + σ²I)⁻¹Σ)
    shrink = COVARIANCE @ np.linalg.inv(COVARIANCE + 0.5**2 * np.eye(2))

    def score(z, sigma):
        return -z @ np.linalg.inv(COVARIANCE + sigma**2 * np.eye(2))

    coarse = noise_levels(0.5, 3.0, 400)
    x = annealed_langevin(3.0 * rng.standard_normal((6000, 2)), score, coarse, rng, denoise=True)
    np.testing.assert_allclose(np.cov(x.T), shrink @ COVARIANCE, atol=0.03)
    assert np.abs(shrink @ COVARIANCE - COVARIANCE).max() > 0.1
    wrong = annealed_langevin(
        3.0 * rng.standard_normal((6000, 2)), lambda z, s: field(z, 2 * s), sigmas, rng
    )
    assert np.abs(np.cov(wrong.T) - COVARIANCE).max() > 0.1


def toy_like(rng):
    return rng.multivariate_normal(np.zeros(2), COVARIANCE, 1000)


def test_toy_draws_are_independent_samples_of_the_same_law():
    a, b = (toy_points("ring8", 500, np.random.default_rng(s)).x for s in (1, 2))
    assert not np.array_equal(a, b)
    assert wasserstein2(a, b) < 0.15


def test_flux_training_is_seeded_resumes_bit_for_bit_and_moves_the_backward_arrays(tmp_path):
    settings = neurosim.FluxSettings(data="ring8", epochs=2, batch_size=16, checkpoint_every=1)
    straight = neurosim.train(FLUX, "flux", settings=settings, out=tmp_path / "a")
    again = neurosim.train(FLUX, "flux", settings=settings)
    assert straight.history["stein"] == again.history["stein"]
    one = neurosim.FluxSettings(data="ring8", epochs=1, batch_size=16, checkpoint_every=1)
    neurosim.train(FLUX, "flux", settings=one, out=tmp_path / "b")
    neurosim.train(FLUX, "flux", settings=settings, out=tmp_path / "b", resume=True)
    a, b = (read_checkpoint(tmp_path / n / "checkpoint.h5") for n in ("a", "b"))
    for name in a.params:
        np.testing.assert_array_equal(a.params[name], b.params[name])
    assert a.history["stein"] == b.history["stein"]
    before = neurosim.Chip(neurosim.api.load_netlist(FLUX)).parameters()
    moved = straight.chip.parameters()
    assert not np.allclose(moved["w1_back"], before["w1_back"])
    assert not np.allclose(moved["w1_back"], moved["w1"])


def test_the_commands_train_flux_sample_by_langevin_and_score_w2(tmp_path):
    from click.testing import CliRunner

    from neurosim.cli.main import cli
    from neurosim.io.samples_h5 import read_samples

    def run(*args):
        result = CliRunner().invoke(cli, [str(a) for a in args])
        assert result.exit_code == 0, result.output
        return result.output

    out = tmp_path / "run"
    text = run("train", "--netlist", FLUX, "--objective", "flux", "--data", "ring8",
               "--out", out, "--epochs", 1, "--batch-size", 8)  # fmt: skip
    assert "Stein residual" in text and (out / "trained.cir").is_file()
    samples = tmp_path / "s.h5"
    run("sample", out, "--langevin", "--n", 30, "--steps", 3, "--out", samples)
    loaded = read_samples(samples)
    assert loaded.samples.shape == (30, 2) and loaded.settings["sampler"] == "langevin"
    assert loaded.settings["alpha"] == 8.0  # the run's, from its checkpoint
    warm = tmp_path / "w.h5"
    run("sample", out, "--langevin", "--warm-start", "--n", 30, "--steps", 3, "--out", warm)
    assert read_samples(warm).settings["warm_start"] is True
    np.testing.assert_allclose(read_samples(warm).samples, loaded.samples, atol=1e-4)
    assert "W2 (exact assignment)" in run("metrics", samples)


def test_evaluate_reports_the_curl_of_a_non_reciprocal_field_only():
    settings = neurosim.FluxSettings(data="ring8")
    scores = {
        kind: neurosim.evaluate(ROOT / f"netlists/ring8_{kind}.cir", "flux", settings)
        for kind in ("flux", "score")
    }
    for key in ("curl", "curl_median"):
        assert scores["score"][key] < 1e-4 < 1e-2 < scores["flux"][key]


@pytest.mark.parametrize("netlist", ["xor.cir", "digits_drn.cir"])
def test_evaluate_flux_refuses_a_network_without_a_spring_field(netlist):
    from click.testing import CliRunner

    from neurosim.cli.main import cli
    from tests.cli_errors import assert_one_line_error

    result = CliRunner().invoke(
        cli, ["evaluate", str(ROOT / "netlists" / netlist), "--objective", "flux"]
    )
    assert_one_line_error(result, "springs on one visible layer")


def test_a_cosine_schedule_resumes_bit_for_bit_and_changes_the_run(tmp_path):
    def flux(epochs: int, schedule: str) -> neurosim.FluxSettings:
        return neurosim.FluxSettings(
            data="ring8", epochs=epochs, batch_size=16, lr_schedule=schedule, checkpoint_every=1
        )

    straight = neurosim.train(FLUX, "flux", settings=flux(3, "cosine"), out=tmp_path / "a")
    neurosim.train(FLUX, "flux", settings=flux(1, "cosine"), out=tmp_path / "b")
    neurosim.train(FLUX, "flux", settings=flux(3, "cosine"), out=tmp_path / "b", resume=True)
    a, b = (read_checkpoint(tmp_path / n / "checkpoint.h5") for n in ("a", "b"))
    for name in a.params:
        np.testing.assert_array_equal(a.params[name], b.params[name])
    assert a.settings["lr_schedule"] == "cosine"
    constant = neurosim.train(FLUX, "flux", settings=flux(3, "constant"))
    assert constant.history["stein"][:1] == straight.history["stein"][:1]
    assert constant.history["stein"][2] != straight.history["stein"][2]


def test_annealed_flux_training_is_seeded_resumes_and_trains_the_noise_input(tmp_path):
    settings = neurosim.FluxSettings(
        data="ring8", epochs=2, batch_size=16, sigma_max=1.5, checkpoint_every=1
    )
    straight = neurosim.train(ANNEALED, "flux", settings=settings, out=tmp_path / "a")
    again = neurosim.train(ANNEALED, "flux", settings=settings)
    assert straight.history["stein"] == again.history["stein"]
    one = neurosim.FluxSettings(
        data="ring8", epochs=1, batch_size=16, sigma_max=1.5, checkpoint_every=1
    )
    neurosim.train(ANNEALED, "flux", settings=one, out=tmp_path / "b")
    neurosim.train(ANNEALED, "flux", settings=settings, out=tmp_path / "b", resume=True)
    a, b = (read_checkpoint(tmp_path / n / "checkpoint.h5") for n in ("a", "b"))
    for name in a.params:
        np.testing.assert_array_equal(a.params[name], b.params[name])
    before = neurosim.Chip(neurosim.api.load_netlist(ANNEALED)).parameters()
    assert not np.allclose(straight.chip.parameters()["w0"], before["w0"])  # noise -> h1
    single = neurosim.FluxSettings(data="ring8", epochs=2, batch_size=16, checkpoint_every=1)
    assert (
        neurosim.train(ANNEALED, "flux", settings=single).history["stein"]
        != (straight.history["stein"])
    )


def test_a_settings_sigma_max_not_above_sigma_is_refused():
    with pytest.raises(neurosim.SettingsError, match="more than sigma"):
        neurosim.FluxSettings(sigma=0.1, sigma_max=0.1)
    assert neurosim.FluxSettings(sigma=0.1, sigma_max=0.0).sigma_max == 0.0


def test_the_commands_train_and_sample_a_noise_annealed_field(tmp_path):
    from click.testing import CliRunner

    from neurosim.cli.main import cli
    from neurosim.io.samples_h5 import read_samples
    from tests.cli_errors import assert_one_line_error

    def invoke(*args):
        return CliRunner().invoke(cli, [str(a) for a in args])

    out = tmp_path / "run"
    train = ("train", "--objective", "flux", "--data", "ring8", "--epochs", 1, "--batch-size", 8)
    result = invoke(*train, "--netlist", ANNEALED, "--out", out, "--sigma-max", 1.5)
    assert result.exit_code == 0, result.output
    samples = tmp_path / "s.h5"
    result = invoke("sample", out, "--anneal", "--n", 20, "--steps", 4, "--out", samples)
    assert result.exit_code == 0, result.output
    assert "annealed Langevin, 4 noise levels from 1.5 to 0.05" in result.output
    result = invoke("sample", out, "--denoise", "--n", 20, "--steps", 4, "--out", samples)
    assert_one_line_error(result, "--denoise: needs --anneal")
    result = invoke(
        "sample", out, "--anneal", "--denoise", "--n", 20, "--steps", 4, "--out", tmp_path / "d.h5"
    )
    assert "4 noise levels from 1.5 to 0.05, denoised" in result.output, result.output
    loaded = read_samples(samples)
    assert loaded.samples.shape == (20, 2)
    assert (loaded.settings["sigma_min"], loaded.settings["sigma_max"]) == (0.05, 1.5)
    held = tmp_path / "a.h5"
    result = invoke("sample", out, "--analog", "--n", 4, "--steps", 2, "--dt", 0.01, "--out", held)
    assert result.exit_code == 0, result.output
    assert read_samples(held).samples.shape == (4, 2)
    circuit = neurosim.api.load_netlist(tmp_path / "a.held.cir")  # at σ_min: ¼ ln 0.05
    assert circuit.elements["vin_noise_0"].value == pytest.approx(0.25 * np.log(0.05) * 0.1)
    result = invoke("evaluate", out / "trained.cir", "--objective", "flux", "--data", "ring8")
    assert result.exit_code == 0, result.output
    line = result.output.splitlines()[-1]
    assert line.startswith("relative error |f - s|²/|s|² by noise level σ: 0.05: ")
    assert line.count(":") == 7 and "1.5: " in line  # 6 levels, 0.05 to 30 x 0.05
    result = invoke("sample", out, "--n", 5, "--out", tmp_path / "e.h5")  # Euler: no level
    assert_one_line_error(result, "noise-conditional")
    result = invoke("sample", ANNEALED, "--anneal", "--n", 5, "--out", tmp_path / "n.h5")
    assert_one_line_error(result, "--sigma-min and --sigma-max")
    result = invoke(*train, "--netlist", FLUX, "--out", tmp_path / "r", "--sigma-max", 1.5)
    assert_one_line_error(result, "one-unit input layer named 'noise'")
    result = invoke(*train, "--netlist", ANNEALED, "--out", tmp_path / "q", "--sigma-max", 0.01)
    assert_one_line_error(result, "--sigma-max")


def test_the_score_loss_regresses_the_field_on_the_kernel_score():
    """loss = "score": ĝ = s − f, so the surrogate is 2|f − s|² and training by it
    brings the circuit's field toward the smoothed score (measured: 2.7 → 1.0 in 60
    epochs of 64 points at σ 0.3; the flux estimator: 4.6 → 4.6)."""
    from neurosim.learn.flux import score_targets

    rng = np.random.default_rng(3)
    x = rng.multivariate_normal(np.zeros(2), COVARIANCE, 50)
    field = linear_field(-PRECISION)
    targets = score_targets(field, x, 0.04, rng, probes(), reference=x)
    np.testing.assert_allclose(targets.g, targets.s - targets.f)
    assert targets.surrogate == pytest.approx(2 * np.mean(np.sum((targets.f - targets.s) ** 2, 1)))
    settings = neurosim.FluxSettings(
        data="ring8", epochs=40, batch_size=64, loss="score", sigma=0.3
    )
    history = neurosim.train(ROOT / "netlists/ring8_score.cir", "flux", settings=settings).history
    mse = np.array(history["score_mse"])
    assert mse[-10:].mean() < 0.7 * mse[:10].mean()
