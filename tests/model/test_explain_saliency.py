"""Image saliency on sample_data, where the label's colour half is the main shape's colour:
the saliency falls on that shape, and it is the trained weights that put it there (the
model-randomisation check of Adebayo et al., 2018, "Sanity checks for saliency maps")."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import SAMPLE

pytestmark = pytest.mark.tf


def shape_box(image: np.ndarray) -> tuple[slice, slice]:
    """The bounding box of the main (red or blue) shape's pixels in a uint8 image."""
    r, g, b = (image[..., i].astype(int) for i in range(3))
    main = ((r > 140) & (g < 110) & (b < 110)) | ((b > 140) & (r < 110) & (g < 130))
    rows, cols = np.flatnonzero(main.any(axis=1)), np.flatnonzero(main.any(axis=0))
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


def box_ratio(saliency: np.ndarray, image: np.ndarray) -> float:
    """Share of the saliency inside the shape's box over the box's share of the image."""
    rows, cols = shape_box(image)
    inside = saliency[rows, cols].sum() / saliency.sum()
    area = saliency[rows, cols].size / saliency.size
    return inside / area


def rank_correlation(a: np.ndarray, b: np.ndarray) -> float:
    ra, rb = (np.argsort(np.argsort(x.ravel())) for x in (a, b))
    return float(np.corrcoef(ra, rb)[0, 1])


@pytest.fixture(scope="module")
def held_out(trained, tmp_path_factory):
    """The trained bundle's model and its held-out rows with an image, as model inputs."""
    from mmcli.api.source import open_source
    from mmcli.bundle import load_model, read_bundle
    from mmcli.model.feed import dataset_inputs

    bundle = read_bundle(trained["bundle"])
    data = open_source(SAMPLE, bundle.config.prep, tmp_path_factory.mktemp("prep"))
    frame = data.examples
    chosen = np.flatnonzero((frame["split"] == "test").to_numpy()
                            & data.present("image", np.arange(len(frame))).astype(bool))
    chosen = chosen[:48]
    names = list(bundle.modalities)
    inputs = dataset_inputs(data, chosen, names, bundle.config.prep)
    truth = np.array([bundle.labels.index(v) for v in frame["label"].to_numpy()[chosen]])
    return {"bundle": bundle, "model": load_model(bundle), "inputs": inputs, "truth": truth,
            "names": names}


def saliency(model, names, inputs, target):
    from mmcli.model.explain.base import Context, Settings
    from mmcli.model.explain.forward import Forward
    from mmcli.model.explain.image import ImageExplainer

    context = Context(model, Forward(model, names), names, Settings(steps=16))
    return np.stack([i.saliency for i in ImageExplainer()(context, "image", inputs, target)])


def test_saliency_falls_on_the_coloured_shape(held_out):
    model, inputs = held_out["model"], held_out["inputs"]
    predicted = np.asarray(model.predict_on_batch(inputs)).argmax(axis=1)
    right = predicted == held_out["truth"]
    assert right.mean() >= 0.8
    maps = saliency(model, held_out["names"], inputs, predicted)
    ratios = np.array([box_ratio(m, img) for m, img in zip(maps, inputs["image"], strict=True)])
    assert np.median(ratios[right]) >= 2.0
    assert (ratios[right] >= 2.0).mean() >= 0.8


def test_reinitialised_weights_give_different_saliency(held_out):
    from mmcli.bundle import load_model

    inputs, target = held_out["inputs"], held_out["truth"]
    trained_maps = saliency(held_out["model"], held_out["names"], inputs, target)
    random = load_model(held_out["bundle"])
    rng = np.random.default_rng(0)
    for variable in random.trainable_weights:
        shape = tuple(variable.shape)
        if len(shape) >= 2:  # kernels: Glorot-normal draws, as at initialisation
            fan = shape[-2] * int(np.prod(shape[:-2])) + shape[-1]
            variable.assign(rng.normal(0, np.sqrt(2 / fan), shape).astype("float32"))
    random_maps = saliency(random, held_out["names"], inputs, target)
    same = [rank_correlation(a, b) for a, b in zip(trained_maps, random_maps, strict=True)]
    assert np.mean(same) < 0.5
    ratios = [box_ratio(m, img) for m, img in zip(random_maps, inputs["image"], strict=True)]
    trained_ratios = [box_ratio(m, img)
                      for m, img in zip(trained_maps, inputs["image"], strict=True)]
    assert np.median(ratios) < np.median(trained_ratios)
