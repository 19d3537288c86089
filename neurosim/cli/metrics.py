"""``neurosim metrics``: sample-quality metrics of generated 8x8 digits."""

from __future__ import annotations

import json
from pathlib import Path

import click

from neurosim.cli.options import nulls_for_non_finite

ROWS = (
    ("frechet_distance", "Frechet distance (features)", "{:.4g}"),
    ("precision", "precision (k = 3 manifold)", "{:.3f}"),
    ("recall", "recall (k = 3 manifold)", "{:.3f}"),
    ("class_coverage", "class coverage (of 10)", "{:d}"),
    ("mean_confidence", "mean confidence", "{:.3f}"),
    ("nearest_train_distance_mean", "nearest training image, mean", "{:.3f}"),
    ("nearest_train_distance_min", "nearest training image, min", "{:.3f}"),
)


@click.command()
@click.argument("samples_file", metavar="SAMPLES", type=click.Path(path_type=Path))
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print one JSON object (strict JSON: NaN or inf in the file's settings become null).",
)
@click.option(
    "--data",
    default=None,
    help="The data the samples are scored against (digits, moons, ring8, checkerboard, mix3 "
    "or a file, as train --data). Default: the one the samples file records (a run's), "
    "else digits.",
)
def metrics(samples_file: Path, as_json: bool, data: str | None) -> None:
    """Score the generated samples in SAMPLES (a `neurosim sample` HDF5 file).

    Samples of a model trained on other data than the digits (moons, ring8, a file; the
    samples file says which) get the energy distance to the data and the coverage of
    its classes (each sample takes its nearest data point's label), next to the same of
    half the data against the other half (--data names the data when the file does not,
    as for samples of a netlist). Digits ((n, 64) in [-1, 1], n >= 2; values outside [-1, 1] are
    clipped to it and counted) are scored with a fixed digits classifier (an MLP shipped in
    data/digits_classifier.npz), next to the same
    scores of real digits (FD: 1,000 seeded random real digits; the rest: the 359
    digits held out from the classifier):

    \b
    - Frechet distance: between Gaussians fitted to the classifier's 64 hidden
      features of the samples and of all 1,797 real digits (lower is better).
    - class coverage: classes (of 10) holding >= 5% of the classifier's predictions;
      class fractions: each class's share.
    - mean confidence: mean of the classifier's largest softmax probability.
    - nearest training image: Euclidean distance (64 pixels, [-1, 1] units) of each
      sample to its nearest real digit (all 1,797, the generator's training set), mean
      and min; far below the real baseline (held-out digits to the other 80%) means
      memorised training images.
    """
    from neurosim import api
    from neurosim.errors import NeurosimError
    from neurosim.io.samples_h5 import read_samples
    from neurosim.scores.quality import check_samples

    loaded = read_samples(samples_file)
    data = data or loaded.settings.get("data", "digits")
    if data != "digits":
        _data_metrics(samples_file, loaded, data, as_json)
        return
    try:
        check_samples(loaded.samples)
    except NeurosimError as exc:
        raise NeurosimError(f"{samples_file}: {exc}") from None
    result = api.metrics(loaded.samples).to_dict()
    if as_json:
        settings = nulls_for_non_finite(loaded.settings)
        record = {"file": str(samples_file), "settings": settings, **result}
        try:
            click.echo(json.dumps(record, allow_nan=False))
        except ValueError:
            raise NeurosimError(f"{samples_file}: a score is not finite") from None
        return
    classifier = result["classifier"]
    click.echo(
        f"{samples_file}: {result['n_samples']} samples; classifier {classifier['version']} "
        f"(held-out accuracy {classifier['heldout_accuracy']:.4f})"
    )
    width = max(len(label) for _, label, _ in ROWS)
    if result["clipped_values"]:
        click.echo(f"{result['clipped_values']} sample values outside [-1, 1] clipped to it")
    click.echo(f"{'':{width}}  {'samples':>11}  {'real digits':>11}")
    for key, label, fmt in ROWS:
        ours, real = fmt.format(result["samples"][key]), fmt.format(result["baseline"][key])
        click.echo(f"{label:{width}}  {ours:>11}  {real:>11}")
    click.echo("class fractions, 0..9:")
    for name, scores in (("samples", result["samples"]), ("real digits", result["baseline"])):
        shares = " ".join(f"{share:.2f}" for share in scores["class_fractions"])
        click.echo(f"  {name:<11}  {shares}")


def _data_metrics(samples_file: Path, loaded, data: str, as_json: bool) -> None:
    """Samples of data that are not the digits: energy distance and class coverage."""
    from neurosim import api
    from neurosim.errors import NeurosimError

    try:
        result = api.metrics(loaded.samples, data)
    except NeurosimError as exc:
        raise NeurosimError(f"{samples_file}: {exc}") from None
    if as_json:
        settings = nulls_for_non_finite(loaded.settings)
        click.echo(json.dumps({"file": str(samples_file), "settings": settings, **result}))
        return
    ours, real = result["samples"], result["baseline"]
    click.echo(f"{samples_file}: {result['n_samples']} samples of {data}")
    click.echo(f"{'':24}  {'samples':>9}  {'half the data':>13}")
    click.echo(
        f"{'energy distance':24}  {ours['energy_distance']:>9.4f}  {real['energy_distance']:>13.4f}"
    )
    click.echo(f"{'W2 (exact assignment)':24}  {ours['w2']:>9.4f}  {real['w2']:>13.4f}")
    if "coverage" in ours:
        classes = f"coverage (of {ours['classes']})"
        click.echo(f"{classes:24}  {ours['coverage']:>9d}  {real['coverage']:>13d}")
        shares = " ".join(f"{share:.2f}" for share in ours["class_fractions"])
        click.echo(f"class fractions: {shares}")
