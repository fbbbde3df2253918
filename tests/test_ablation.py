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
    facts = ablation.convergence(falling, 300, 300, stopped_early=False)
    assert facts["best_step"] == 300 and not facts["converged"] and facts["last_third_gain"] > 0.1
    assert facts["planned_steps"] == 300 and facts["history"] == falling  # kept: the verdict can be re-read later
    flat = [{"step": s, "val_loss": 5 + (0.1 if s == 50 else 0.001 if s > 200 else 0)} for s in range(50, 301, 50)]
    facts = ablation.convergence(flat, 300, 300, stopped_early=False)
    assert facts["converged"] and facts["last_third_gain"] <= 0
    stalled = [{"step": s, "val_loss": 5 + s / 1000} for s in range(50, 301, 50)]  # worse after the first
    assert not ablation.convergence(stalled, 300, 300, stopped_early=True)["converged"]


def test_an_early_stop_converges_only_on_a_patience_window_inside_the_last_third():
    """The 16-epoch A + readout kd run: best at step 50, stopped at 150 of 1328 on validation noise."""
    noisy = [{"step": 25, "val_loss": 5.0}, {"step": 50, "val_loss": 4.0}] + [
        {"step": s, "val_loss": 4.1} for s in range(75, 151, 25)]
    facts = ablation.convergence(noisy, 1328, 150, stopped_early=True, patience_steps=100)
    assert not facts["converged"] and facts["last_third_gain"] == 0  # no gain measured: the last third never ran
    late = [{"step": s, "val_loss": 5 - min(s, 700) / 1000} for s in range(25, 1001, 25)]  # flat after step 700
    facts = ablation.convergence(late, 1328, 1000, stopped_early=True, patience_steps=100)
    assert facts["converged"] and facts["best_step"] == 700  # the 100 steps that stopped it lie after 885
    # stopped at 900 on a window that began at 800, before the last third (885): it saw 15 steps of it
    assert not ablation.convergence(late[:36], 1328, 900, stopped_early=True, patience_steps=100)["converged"]
    assert not ablation.convergence(late[:20], 1328, 500, stopped_early=False)["converged"]  # interrupted early


def test_the_recipe_stops_early_only_inside_the_last_third():
    assert ablation.base_recipe().early_stop_from >= 1 - ablation.LAST_PART


def test_table_marks_missing_and_unconverged_cells():
    means = {k: 0.5 for k in ablation.KEYS}
    record = {"arch": "FastSal C + readout", "method": "kd", "osie": {**means, "auc_judd": 0.861},
              "scene": {**means, "auc_judd": 0.83}, "steps": 10, "planned_steps": 30, "best_step": 10,
              "stopped_early": False,
              "last_third_gain": 0.05, "converged": False}
    text = ablation.tables([record])
    row = next(line for line in text.splitlines() if line.startswith("| FastSal C + readout |"))
    assert row.split(" | ")[4] == "0.861 / 0.830 (not converged)"
    assert row.split(" | ")[1:3] == ["2.05", "0.169 at 96×128"]  # params (M), GFLOPs at the ablation's input
    assert row.count("—") == len(ablation.METHODS) - 1
    assert "| 10 of 30 | 10 | no | 5.00 % |" in text  # stopped after a third of its schedule: not converged


def test_finished_cells_are_found_by_folder_under_the_rows_current_label(tmp_path):
    import json

    arch = "FastSal A + readout (former default)"
    out = tmp_path / "fastsal_a_mnv2_readout" / "kd"
    out.mkdir(parents=True)
    (out / "done.json").write_text(json.dumps({"arch": "FastSal A + readout (shipped)", "method": "kd", "steps": 3,
                                               "converged": True}))
    assert ablation.finished_cells(tmp_path) == [{"arch": arch, "method": "kd", "steps": 3, "converged": True}]
    assert ablation.run_cell(arch, "kd", tmp_path, threads=1)["arch"] == arch  # reused, not trained again


def test_schedules_double_the_recipes_epochs_and_live_beside_the_runs_folder(tmp_path):
    base = ablation.base_recipe().epochs
    assert ablation.schedules(4 * base) == [base, 2 * base, 4 * base]
    assert ablation.schedules(4 * base - 1) == [base, 2 * base]
    runs = tmp_path / "ablation"
    assert ablation.schedule_root(runs, base) == ablation.schedule_root(runs, None) == runs
    arch = "FastSal C + readout"
    cfg = ablation.cell_config(arch, "kd", runs, 2 * base)
    assert cfg.epochs == 2 * base
    assert cfg.out == str(tmp_path / f"ablation_{2 * base}ep" / "fastsal_c_mnv2_readout" / "kd")


def _finish(cfg, converged: bool, auc: float) -> None:
    import json
    from pathlib import Path

    means = {k: 0.5 for k in ablation.KEYS}
    record = {"config": {"epochs": cfg.epochs, "patience": 4, "val_every": 1}, "osie": {**means, "auc_judd": auc},
              "scene": means, "steps": 10,
              "planned_steps": 10, "best_step": 10, "stopped_early": converged, "last_third_gain": 0.0,
              "converged": converged}
    Path(cfg.out).mkdir(parents=True)
    (Path(cfg.out) / "done.json").write_text(json.dumps(record))


def test_a_cell_shows_its_first_converged_schedule_else_its_longest(tmp_path):
    base, arch = ablation.base_recipe().epochs, "FastSal C + readout"
    _finish(ablation.cell_config(arch, "kd", tmp_path, base), converged=False, auc=0.80)
    assert ablation.chosen_record(arch, "kd", tmp_path)["osie"]["auc_judd"] == 0.80
    _finish(ablation.cell_config(arch, "kd", tmp_path, 2 * base), converged=False, auc=0.81)
    assert ablation.chosen_record(arch, "kd", tmp_path)["osie"]["auc_judd"] == 0.81  # longest when none converged
    _finish(ablation.cell_config(arch, "kd", tmp_path, 4 * base), converged=True, auc=0.82)
    _finish(ablation.cell_config(arch, "kd", tmp_path, 8 * base), converged=True, auc=0.83)
    chosen = ablation.chosen_record(arch, "kd", tmp_path)
    assert chosen["osie"]["auc_judd"] == 0.82 and chosen["arch"] == arch  # the first that converged
    assert ablation.notes(chosen) == f" ({4 * base} ep)"
    assert [r["osie"]["auc_judd"] for r in ablation.finished_cells(tmp_path, 2 * base)] == [0.81]
    # a converged cell is not trained again: the loop stops at the schedule that converged
    assert ablation.converge_cell(arch, "kd", tmp_path, threads=1, max_epochs=8 * base)["osie"]["auc_judd"] == 0.82
    row = next(line for line in ablation.tables(ablation.finished_cells(tmp_path)).splitlines()
               if line.startswith(f"| {arch} |"))
    assert f"0.820 / 0.500 ({4 * base} ep)" in row


def test_an_unconverged_cell_shows_its_longest_run_that_saw_its_last_third(tmp_path):
    import json
    from pathlib import Path

    base, arch = ablation.base_recipe().epochs, "FastSal A + readout (former default)"
    means = {k: 0.5 for k in ablation.KEYS}
    for epochs, steps, stopped, auc in ((base, 664, False, 0.867), (2 * base, 150, True, 0.764)):
        out = Path(ablation.cell_config(arch, "kd", tmp_path, epochs).out)
        out.mkdir(parents=True)
        (out / "done.json").write_text(json.dumps({
            "config": {"epochs": epochs, "patience": 4, "val_every": 25}, "osie": {**means, "auc_judd": auc},
            "scene": means, "steps": steps, "planned_steps": 664 * epochs // base, "best_step": steps - 100,
            "stopped_early": stopped, "last_third_gain": 0.03, "converged": False}))
    assert ablation.chosen_record(arch, "kd", tmp_path)["osie"]["auc_judd"] == 0.867  # not the noise-stopped 16 ep
    assert ablation.saw_the_last_third(1000, 1328, True, 100) and not ablation.saw_the_last_third(900, 1328, True, 100)


def test_doubling_that_no_longer_helps_settles_convergence(tmp_path):
    import json
    from pathlib import Path

    base, arch = ablation.base_recipe().epochs, "FastSal C + readout"

    def finish(epochs: int, val_loss: float, auc: float) -> None:
        cfg = ablation.cell_config(arch, "kd", tmp_path, epochs)
        means = {k: 0.5 for k in ablation.KEYS}
        Path(cfg.out).mkdir(parents=True)
        (Path(cfg.out) / "done.json").write_text(json.dumps({
            "config": {"epochs": epochs, "patience": 4, "val_every": 1},
            "osie": {**means, "auc_judd": auc}, "scene": means, "steps": 10,
            "planned_steps": 10, "best_step": 10, "best_val_loss": val_loss, "stopped_early": False,
            "last_third_gain": 0.05, "converged": False}))

    finish(base, 2.00, 0.80)
    finish(2 * base, 1.90, 0.81)  # 5 % lower: the 8-epoch run was not converged
    assert ablation.chosen_record(arch, "kd", tmp_path)["converged"] is False
    finish(4 * base, 1.89, 0.82)  # 0.5 % lower: 16 epochs were enough; the table shows the lower loss
    chosen = ablation.chosen_record(arch, "kd", tmp_path)
    assert chosen["converged"] and chosen["osie"]["auc_judd"] == 0.82
    assert ablation.notes(chosen) == f" ({4 * base} ep, converged: {4 * base} ep change the best val loss by -0.5 %)"
    assert ablation.converge_cell(arch, "kd", tmp_path, threads=1, max_epochs=8 * base)["osie"]["auc_judd"] == 0.82
    assert not ablation.confirmed_by_doubling({"converged": False}, {"best_val_loss": 1.0})  # older records


def test_published_cells_are_adopted_into_their_own_folders_without_replacing_finished_ones(tmp_path):
    import json

    base, arch = ablation.base_recipe().epochs, "FastSal C + readout"
    means = {k: 0.5 for k in ablation.KEYS}
    record = {"arch": arch, "method": "kd", "config": {"epochs": 2 * base, "out": "/elsewhere/kd"}, "osie": means,
              "scene": means, "steps": 10, "best_step": 10, "stopped_early": True, "last_third_gain": 0.0,
              "converged": True}
    published = tmp_path / "ablation.json"
    published.write_text(json.dumps([record, {**record, "arch": "no such row"}]))
    runs = tmp_path / "ablation"
    assert ablation.adopt(published, runs) == 1
    assert ablation.chosen_record(arch, "kd", runs)["config"]["out"] == "/elsewhere/kd"  # filed by cell, not by path
    assert (tmp_path / f"ablation_{2 * base}ep" / "fastsal_c_mnv2_readout" / "kd" / "done.json").exists()
    assert ablation.adopt(published, runs) == 0  # already finished: kept
