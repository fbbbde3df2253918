"""Bad-input suite of ``edgesal evaluate`` and the dataset loaders behind it.

Each row is a :class:`~bad_input.Case` run in a fresh world folder (see ``tests/bad_input.py``
for the contract checked: exit 2, one ``error:`` line naming the problem, no traceback,
nothing written, nothing changed). ``{w}/data`` is a generic dataset (16 images img00…img15).
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch
from bad_input import Case, World, run_case
from bad_input import write_file as _write


def _edit_csv(edit):
    """Rewrite ``data/fixations.csv`` as ``edit(lines)`` (lines without newlines)."""
    def setup(world: World) -> None:
        path = world.root / "data" / "fixations.csv"
        path.write_text("\n".join(edit(path.read_text().splitlines())) + "\n")
    return setup


def _maps(make):
    """A ``maps/`` folder with ``make(stem)`` saved as ``<stem>.npy`` for every image."""
    def setup(world: World) -> None:
        (world.root / "maps").mkdir()
        for image in sorted((world.root / "data" / "stimuli").glob("*.png")):
            np.save(world.root / "maps" / f"{image.stem}.npy", make(image.stem), allow_pickle=True)
    return setup


def _no_stimuli(world: World) -> None:
    shutil.rmtree(world.root / "data" / "stimuli")
    (world.root / "data" / "stimuli").mkdir()


def _truncated_image(world: World) -> None:
    path = world.root / "data" / "stimuli" / "img00.png"
    path.write_bytes(path.read_bytes()[:200])  # header intact, pixels cut


def _nan_checkpoint(world: World) -> None:
    ckpt = torch.load(world.ckpt, weights_only=True)
    ckpt["state_dict"] = {k: torch.full_like(v, float("nan")) if v.is_floating_point() else v
                          for k, v in ckpt["state_dict"].items()}
    torch.save(ckpt, world.root / "nan.pt")


def _all_outside(lines: list[str]) -> list[str]:
    return [lines[0], *(",".join([*line.split(",")[:2], "-1000", "-1000"]) for line in lines[1:])]


EVAL = ["evaluate", "--data", "{w}/data"]
CB = ["--model", "center-bias"]
CASES: list[Case] = [
    # --- options checked at parse time, before anything is loaded
    Case("evaluate-limit-0", [*EVAL, *CB, "--limit", "0"], r"--limit.*0"),
    Case("evaluate-limit-neg", [*EVAL, *CB, "--limit", "-1"], r"--limit.*-1"),
    Case("evaluate-threads-0", [*EVAL, *CB, "--threads", "0"], r"--threads"),
    Case("evaluate-json-is-folder", [*EVAL, *CB, "--json", "{w}/out"], r"--json.*out is a folder"),
    Case("evaluate-json-under-file", [*EVAL, *CB, "--json", "{w}/notes.txt/r.json"], r"notes\.txt is a file"),
    Case("evaluate-maps-missing", [*EVAL, "--maps", "{w}/nope"], r"--maps.*maps folder not found.*nope"),
    Case("evaluate-maps-is-file", [*EVAL, "--maps", "{w}/notes.txt"], r"--maps.*notes\.txt is a file"),
    Case("evaluate-split-nonsense", [*EVAL, *CB, "--split", "nonsense"], r"--split.*'nonsense'"),
    Case("evaluate-model-and-maps", [*EVAL, *CB, "--maps", "{w}/imgs"], r"exactly one of --model or --maps"),
    Case("evaluate-neither-model-nor-maps", EVAL, r"exactly one of --model or --maps"),
    Case("evaluate-no-data", ["evaluate", *CB], r"missing option '--data'"),
    # --- names that do not resolve
    Case("evaluate-unknown-model", [*EVAL, "--model", "defualt"], r"unknown model 'defualt'.*did you mean 'default'"),
    Case("evaluate-unknown-dataset", ["evaluate", "--data", "nonexistent", *CB], r"unknown dataset 'nonexistent'"),
    Case("evaluate-dataset-typo", ["evaluate", "--data", "osei", *CB], r"unknown dataset 'osei'.*did you mean 'osie'"),
    Case("evaluate-empty-data", ["evaluate", "--data", " ", *CB], r"dataset name or folder is empty"),
    Case("evaluate-missing-data-folder", ["evaluate", "--data", "{w}/nope", *CB], r"dataset directory not found.*nope"),
    Case("evaluate-data-not-a-dataset", ["evaluate", "--data", "{w}/imgs", *CB], r"imgs: unrecognised dataset layout"),
    # --- a broken generic dataset
    Case("evaluate-csv-wrong-header", [*EVAL, *CB], r"fixations\.csv: missing column\(s\) stem, observer",
         setup=_write("data/fixations.csv", "image,x,y\nimg00,1,2\n")),
    Case("evaluate-csv-empty", [*EVAL, *CB], r"fixations\.csv is empty", setup=_write("data/fixations.csv", "")),
    Case("evaluate-csv-non-numeric-x", [*EVAL, *CB], r"fixations\.csv line 2: x, y must be numbers, got 'left'",
         setup=_edit_csv(lambda lines: [lines[0], "img00,s0,left,3", *lines[2:]])),
    Case("evaluate-csv-short-row", [*EVAL, *CB], r"fixations\.csv line 2: 2 field\(s\)",
         setup=_edit_csv(lambda lines: [lines[0], "img00,s0", *lines[2:]])),
    Case("evaluate-csv-stem-without-image", [*EVAL, *CB], r"fixations\.csv line \d+: stem 'ghost' has no image",
         setup=_edit_csv(lambda lines: [*lines, "ghost,s0,1,1"])),
    Case("evaluate-csv-all-fixations-outside", [*EVAL, *CB],
         r"no images with fixations .*\(192 fixation\(s\) lay outside", setup=_edit_csv(_all_outside)),
    Case("evaluate-no-fixations-file", [*EVAL, *CB], r"data: unrecognised dataset layout",
         setup=lambda w: (w.root / "data" / "fixations.csv").unlink()),
    Case("evaluate-empty-stimuli", [*EVAL, *CB], r"no images .* in .*stimuli", setup=_no_stimuli),
    Case("evaluate-corrupt-image", [*EVAL, *CB], r"cannot read image .*img03\.png",
         setup=_write("data/stimuli/img03.png", b"not a png at all")),
    Case("evaluate-truncated-image", [*EVAL, *CB], r"cannot read image .*img00\.png", setup=_truncated_image),
    # --- bad maps and bad model outputs: the error names the file or image
    Case("evaluate-map-nan", [*EVAL, "--maps", "{w}/maps"], r"map .*maps/img00\.npy has NaN values",
         setup=_maps(lambda stem: np.full((48, 64), np.nan))),
    Case("evaluate-map-some-inf", [*EVAL, "--maps", "{w}/maps"], r"map .*img00\.npy has infinite values",
         setup=_maps(lambda stem: np.where(np.eye(48, 64) > 0, np.inf, 1.0))),
    Case("evaluate-map-pickle", [*EVAL, "--maps", "{w}/maps"], r"cannot read map .*img00\.npy.*pickle",
         setup=_maps(lambda stem: np.array([{"a": 1}], dtype=object))),
    Case("evaluate-map-empty", [*EVAL, "--maps", "{w}/maps"], r"map .*img00\.npy is empty",
         setup=_maps(lambda stem: np.zeros((0, 0)))),
    Case("evaluate-map-1d", [*EVAL, "--maps", "{w}/maps"], r"map .*img00\.npy must be 2-D, got shape \(64,\)",
         setup=_maps(lambda stem: np.ones(64))),
    Case("evaluate-map-strings", [*EVAL, "--maps", "{w}/maps"], r"map .*img00\.npy must hold real numbers",
         setup=_maps(lambda stem: np.array([["a", "b"], ["c", "d"]]))),
    Case("evaluate-map-corrupt-png", [*EVAL, "--maps", "{w}/maps"], r"cannot read map .*img00\.png",
         setup=_write("maps/img00.png", b"\x89PNG garbage")),
    Case("evaluate-map-missing-stem", [*EVAL, "--maps", "{w}/imgs"], r"no map for image 'img00'"),
    Case("evaluate-model-nan-output", [*EVAL, "--model", "{w}/nan.pt"], r"map of image .*img00\.png has NaN values",
         setup=_nan_checkpoint),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case, world, capsys):
    run_case(case, world, capsys)
