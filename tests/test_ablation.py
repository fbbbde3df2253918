"""benchmarks/ablation.py: every cell is a valid training config, and convergence is read honestly."""

from __future__ import annotations

import pytest
from benchmark_scripts import load_benchmark

from edgesal.losses import LOSSES
from edgesal.models.registry import get_spec

ablation = load_benchmark("ablation")


@pytest.mark.parametrize("method", ablation.METHODS)
@pytest.mark.parametrize("arch", list(ablation.ARCHITECTURES))
def test_every_cell_is_a_valid_config_with_a_loss_for_its_head(arch, method, tmp_path):
    cfg = ablation.cell_config(arch, method, tmp_path)
    log_density = get_spec(cfg.model).output_kind == "log_density"
    assert cfg.loss in LOSSES
    assert (cfg.loss in ("theis", "density_cross_entropy")) == log_density
    uses_teacher = method != "fixations"
    assert (cfg.teacher_cache is not None) == uses_teacher
    assert (ablation.EYECROWD in cfg.train) == uses_teacher  # unlabelled images only where a teacher labels them
    assert (cfg.hint_teacher is not None) == (method == "kd+hint")
    assert cfg.distill == ("stats" if method == "kd+stats" else None)
    assert cfg.distill_weight == (0.1 if method == "kd+stats" else 1.0)
    assert cfg.pretrained_backbone == ("random init" not in arch)
    assert cfg.out.startswith(str(tmp_path)) and cfg.out.endswith(method)


def test_cells_have_distinct_output_folders(tmp_path):
    outs = [ablation.cell_config(a, m, tmp_path).out for a in ablation.ARCHITECTURES for m in ablation.METHODS]
    assert len(set(outs)) == len(outs)


def test_convergence_from_the_validation_history():
    falling = [{"step": s, "val_loss": 10 - s / 100} for s in range(50, 301, 50)]  # still 15 % down in the last third
    facts = ablation.convergence(falling, 300, stopped_early=False)
    assert facts["best_step"] == 300 and not facts["converged"] and facts["last_third_gain"] > 0.1
    flat = [{"step": s, "val_loss": 5 + (0.1 if s == 50 else 0.001 if s > 200 else 0)} for s in range(50, 301, 50)]
    facts = ablation.convergence(flat, 300, stopped_early=False)
    assert facts["converged"] and facts["last_third_gain"] <= 0
    assert ablation.convergence(falling, 300, stopped_early=True)["converged"]
    stalled = [{"step": s, "val_loss": 5 + s / 1000} for s in range(50, 301, 50)]  # worse after the first
    assert not ablation.convergence(stalled, 300, stopped_early=True)["converged"]


def test_table_marks_missing_and_unconverged_cells():
    means = {k: 0.5 for k in ablation.KEYS}
    record = {"arch": "FastSal C + readout", "method": "kd", "osie": {**means, "auc_judd": 0.861},
              "scene": {**means, "auc_judd": 0.83}, "steps": 10, "best_step": 10, "stopped_early": False,
              "last_third_gain": 0.05, "converged": False}
    text = ablation.tables([record])
    row = next(line for line in text.splitlines() if line.startswith("| FastSal C + readout |"))
    assert row.split(" | ")[4] == "0.861 / 0.830 (not converged)"
    assert row.split(" | ")[1:3] == ["2.05", "0.169 at 96×128"]  # params (M), GFLOPs at the ablation's input
    assert row.count("—") == len(ablation.METHODS) - 1


def test_finished_cells_are_found_by_folder_under_the_rows_current_label(tmp_path):
    import json

    arch = "FastSal A + readout (former default)"
    out = tmp_path / "fastsal_a_mnv2_readout" / "kd"
    out.mkdir(parents=True)
    (out / "done.json").write_text(json.dumps({"arch": "FastSal A + readout (shipped)", "method": "kd", "steps": 3}))
    assert ablation.finished_cells(tmp_path) == [{"arch": arch, "method": "kd", "steps": 3}]
    assert ablation.run_cell(arch, "kd", tmp_path, threads=1)["arch"] == arch  # reused, not trained again
