"""Fisher pruning: dependency groups, Fisher signal, FLOP costs, selection, physical removal, CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from edgesal.cli.main import main
from edgesal.losses import fixation_nll
from edgesal.models import build_model, get_spec, load_checkpoint, save_checkpoint
from edgesal.models.flops import count_flops
from edgesal.models.layers import InvertedResidual, conv_bn_act
from edgesal.pruning import (
    ChannelMasks,
    FlopCostModel,
    apply_channel_config,
    make_criterion,
    per_sample_mask_grads,
    physically_prune,
    pruned_channel_config,
    select_group,
    trace_dependencies,
)
from edgesal.pruning.criteria import SignalBatch
from edgesal.pruning.selection import parse_flop_target, select_block

torch.set_num_threads(1)


# --- helpers ----------------------------------------------------------------------------------

def _randomise(model: nn.Module, seed: int = 0) -> nn.Module:
    """Non-trivial BatchNorm statistics/affine and PReLU slopes (so slicing errors show)."""
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.3)
            m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.bias.data.copy_(torch.randn(m.num_features, generator=g) * 0.3 + 0.2)
        elif isinstance(m, nn.PReLU):
            m.weight.data.copy_(torch.rand(m.num_parameters, generator=g) * 0.5)
    return model


def _random_alive(graph, frac: float, seed: int = 0) -> np.ndarray:
    """Remove a random fraction of groups, reviving groups until no tensor is left empty."""
    rng = np.random.default_rng(seed)
    alive = rng.random(graph.num_groups) >= frac
    costs = FlopCostModel(graph)
    while True:
        counts = costs.counts(alive)
        empty = [v for v in range(len(counts)) if counts[v] == 0 and costs.full_counts[v] > 0]
        if not empty:
            return alive
        for v in empty:
            groups = graph.value_groups[v]
            alive[groups[groups >= 0][0]] = True


class Stack(nn.Module):
    """conv 3→8 (3×3), ReLU, depthwise 3×3, ReLU, conv 8→4 (1×1), ReLU, pool, linear 4→2."""

    def __init__(self):
        super().__init__()
        self.c1, self.a1 = nn.Conv2d(3, 8, 3, padding=1), nn.ReLU()
        self.dw, self.a2 = nn.Conv2d(8, 8, 3, padding=1, groups=8), nn.ReLU()
        self.c3, self.a3 = nn.Conv2d(8, 4, 1), nn.ReLU()
        self.pool, self.flat, self.fc = nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2)

    def forward(self, x):
        x = self.a2(self.dw(self.a1(self.c1(x))))
        return self.fc(self.flat(self.pool(self.a3(self.c3(x)))))


class Mixed(nn.Module):
    """Residual stream + depthwise inverted residual + PReLU + pixel shuffle + concat."""

    def __init__(self):
        super().__init__()
        self.stem = conv_bn_act(3, 8, 3)
        self.block = InvertedResidual(8, expansion=2)
        self.branch = nn.Sequential(nn.Conv2d(8, 16, 1), nn.BatchNorm2d(16), nn.PReLU(16), nn.PixelShuffle(2))
        self.down = nn.AvgPool2d(2)
        self.fuse = nn.Conv2d(8 + 4, 6, 3, padding=1)
        self.head = nn.Conv2d(6, 1, 1)

    def forward(self, x):
        y = self.block(self.stem(x))
        z = torch.cat([F.interpolate(y, scale_factor=2, mode="bilinear", align_corners=False), self.branch(y)], 1)
        return self.head(F.relu(self.fuse(self.down(z))))


# --- dependency graph -------------------------------------------------------------------------

def test_groups_of_hand_built_graph():
    g = trace_dependencies(Mixed(), (1, 3, 8, 8))
    # 8 residual-stream channels + 16 expanded + 4 pixel-shuffle groups + 6 fuse outputs
    assert g.num_groups == 8 + 16 + 4 + 6
    stream = [grp for grp in g.groups if len(grp.sources) == 2]
    assert len(stream) == 8 and {n for n, _ in stream[0].sources} == {"stem.0", "block.block.2.0"}
    assert {n for n, _ in stream[0].consumers} == {"block.block.0.0", "branch.0", "fuse"}
    shuffle = [grp for grp in g.groups if grp.size == 4]
    assert [grp.sources[0][1] for grp in shuffle] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11], [12, 13, 14, 15]]
    # the concat offset: shuffle group j reaches fuse input channel 8 + j
    assert [grp.consumers[0] for grp in shuffle] == [("fuse", [8 + j]) for j in range(4)]
    assert all(grp.sources[0][0] != "head" for grp in g.groups)  # the output is never pruned


def test_real_architectures_have_expected_groups():
    g = trace_dependencies(build_model(get_spec("fastsal_a_mnv2_readout").with_input_hw((64, 96))), (1, 3, 64, 96))
    layers = {grp.layer for grp in g.groups}
    assert "backbone.blocks.4.expand.conv" in layers  # inverted-residual expansion
    assert "backbone.blocks.3.project.conv+backbone.blocks.4.project.conv+backbone.blocks.5.project.conv" in layers
    assert any(layer.startswith("decoder.lateral.0.0+decoder.lateral.1.0") for layer in layers)  # coupled FPN
    assert {"head.readout.0", "head.readout.2", "head.readout.4"} <= layers
    assert not any("head.readout.6" in layer for layer in layers)  # the 1-channel map + blur tail
    g = trace_dependencies(build_model(get_spec("fastsal_c_mnv2").with_input_hw((64, 96))), (1, 3, 64, 96))
    r4 = [grp for grp in g.groups if grp.layer == "decoder.adapters.2.0.0"]  # stride 32: r = 4
    assert len(r4) == 32 and all(grp.size == 16 for grp in r4)


# --- Fisher signal ----------------------------------------------------------------------------

def test_fisher_signal_matches_finite_differences():
    torch.manual_seed(0)
    spec = get_spec("uva_tiny_readout").with_input_hw((32, 32))
    model = _randomise(build_model(spec)).double().eval()
    graph = trace_dependencies(model, (1, 3, 32, 32))
    x = torch.randn(2, 3, 32, 32, dtype=torch.float64)
    fix = torch.zeros(2, 32, 32, dtype=torch.float64)
    fix[0, 10, 12] = fix[0, 20, 5] = fix[1, 16, 16] = 1
    fix[1, 3, 30] = 2

    def per_sample(out):
        return torch.stack([fixation_nll(out[n:n + 1], fix[n:n + 1]) for n in range(out.shape[0])])

    with ChannelMasks(graph) as masks:
        g, _losses = per_sample_mask_grads(model, masks, x, per_sample)  # batch of 2, one backward
        ks = list(np.argsort(-g.abs().sum(0).numpy())[:6])  # strongest groups …
        ks += [grp.index for grp in graph.groups if grp.size > 1][:1]  # … and a pixel-shuffle group
        eps = 1e-5
        for n in range(2):
            for k in ks:
                vals = []
                for sign in (1, -1):
                    m = torch.ones(1, graph.num_groups, dtype=torch.float64)
                    m[0, k] += sign * eps
                    masks.set_mask(m)
                    with torch.no_grad():
                        vals.append(float(fixation_nll(model(x[n:n + 1]), fix[n:n + 1])))
                fd = (vals[0] - vals[1]) / (2 * eps)
                assert fd == pytest.approx(float(g[n, k]), rel=1e-3, abs=1e-9), (n, graph.groups[k].name)
        masks.set_mask(None)
    assert g.abs().max() > 1e-3
    # Δ_k = 1/(2N) Σ_n g_nk²
    crit = make_criterion("fisher", graph)
    crit.update(SignalBatch(g, None, torch.tensor([True, True])))
    np.testing.assert_allclose(crit.scores(np.ones(graph.num_groups, bool)), (g.numpy() ** 2).sum(0) / 4)


def test_taylor_normalisation_and_l1_criteria():
    graph = trace_dependencies(Stack(), (1, 3, 8, 8))
    masks = ChannelMasks(graph)
    assert masks.spatial_elements.tolist() == [64] * 8 + [1] * 4
    g = torch.tensor([[1.0] * 8 + [2.0] * 4, [-3.0] * 8 + [0.0] * 4], dtype=torch.float64)
    t = make_criterion("taylor_unnorm", graph, masks.spatial_elements)
    t.update(SignalBatch(g, None, torch.tensor([True, True])))
    np.testing.assert_allclose(t.scores(np.ones(12, bool)), [2 / 64] * 8 + [1.0] * 4)
    tn = make_criterion("taylor", graph, masks.spatial_elements)
    tn.update(SignalBatch(g, None, torch.tensor([True, True])))
    np.testing.assert_allclose(tn.scores(np.ones(12, bool)), [1 / np.sqrt(8)] * 8 + [0.5] * 4)
    w = make_criterion("l1w", graph).scores(np.ones(12, bool), graph.model)
    np.testing.assert_allclose(w[:8], graph.model.c1.weight.detach().abs().flatten(1).mean(1).double().numpy())


# --- FLOP costs -------------------------------------------------------------------------------

def test_flop_costs_match_hand_counts_and_change_after_neighbour_pruned():
    model = Stack()
    graph = trace_dependencies(model, (1, 3, 8, 8))
    assert graph.num_groups == 12  # 8 maps of c1 (through the depthwise conv) + 4 of c3
    costs = FlopCostModel(graph)
    hand = 64 * 8 * (2 * 3 * 9 + 1) + 512 + 64 * 8 * (2 * 9 + 1) + 512 + 64 * 4 * (2 * 8 + 1) + 256 + 256 + 2 * 9
    assert hand == 43794
    assert costs.total() == count_flops(model, (1, 3, 8, 8)).total_flops == hand
    alive = np.ones(12, bool)
    s = costs.savings(alive)
    # c1 map: its filter, ReLU, depthwise filter, ReLU and one input channel of all 4 c3 filters
    assert s[0] == 64 * 55 + 64 + 64 * 19 + 64 + 64 * 4 * 2 == 5376
    # c3 map: its filter (8 inputs), ReLU, pool, and one input of both linear outputs
    assert s[8] == 64 * 17 + 64 + 64 + 2 * 2 == 1220
    alive = costs.remove(alive, 0)
    s = costs.savings(alive)
    assert s[8] == 64 * (2 * 7 + 1) + 64 + 64 + 4 == 1092  # one fewer input channel per filter now
    assert s[1] == 5376 and s[0] == 0
    assert costs.total(alive) == hand - 5376
    pruned = physically_prune(model, graph, alive)
    assert count_flops(pruned, (1, 3, 8, 8)).total_flops == hand - 5376
    # never empty a layer: with 1 map of c3 left, it is not eligible
    for k in (8, 9, 10):
        alive = costs.remove(alive, k)
    assert not costs.eligible(alive)[11] and costs.eligible(alive)[1]


def test_flop_rules_for_custom_modules():
    report = count_flops(build_model("deepgaze_mnv2_readout"), (1, 3, 64, 96))
    concat = [layer for layer in report.per_layer if layer.type == "ConcatDecoder"]
    assert concat[0].flops == 7 * (8 * 12) * (96 + 320)  # bilinear resize of the stride-16/32 levels
    report = count_flops(build_model("uva_tiny_readout"), (1, 3, 64, 64))
    blur = [layer for layer in report.per_layer if layer.type == "SeparableGaussianBlur"]
    assert blur[0].flops == 2 * 64 * 64 * (2 * 9 + 1)  # σ = 1.28 px: 9 taps, two passes
    assert report.unsupported == []


def test_in_place_writes_block_channels():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b, self.c = nn.Conv2d(3, 4, 1), nn.Conv2d(4, 4, 1), nn.Conv2d(4, 1, 1)

        def forward(self, x):
            y = self.b(self.a(x))
            y[:, 0] = 0  # channel-indexed write: b's maps must stay
            return self.c(y)

    g = trace_dependencies(M(), (1, 3, 4, 4))
    assert [grp.layer for grp in g.groups] == ["a"] * 4


def test_flop_target_parsing():
    assert parse_flop_target("50%", 1000) == 500
    assert parse_flop_target(0.25, 1000) == 250
    assert parse_flop_target("0.3G", 1000) == 300_000_000
    assert parse_flop_target("250M", 1) == 250_000_000


# --- selection --------------------------------------------------------------------------------

def test_beta_star_picks_least_loss_per_flop():
    scores = np.array([0.1, 0.2, 0.05, 0.0])
    savings = np.array([10, 100, 1, 50])
    eligible = np.array([True, True, True, False])
    assert select_group(scores, savings, eligible, beta_star=True).index == 1  # 0.002 per FLOP
    assert select_group(scores, savings, eligible, beta=0.0).index == 2  # smallest loss
    assert select_group(scores, savings, eligible, beta=0.01, flops_ref=1.0).index == 1  # 0.2 - 1.0
    choice = select_group(scores, savings, eligible, beta_star=True, flops_ref=1000)
    assert choice.beta_k == pytest.approx(0.2 / 0.1)
    assert select_group(scores, savings, np.zeros(4, bool)).index == -1


def test_beta_star_with_real_costs():
    graph = trace_dependencies(Stack(), (1, 3, 8, 8))
    costs = FlopCostModel(graph)
    alive = np.ones(12, bool)
    scores = np.array([2.0] * 8 + [1.0] * 4)  # c1 maps cost more loss but save 5376 vs 1220 FLOPs
    assert select_group(scores, costs.savings(alive), costs.eligible(alive), beta=0.0).index == 8
    assert select_group(scores, costs.savings(alive), costs.eligible(alive), beta_star=True).index == 0
    big = select_group(scores, costs.savings(alive), costs.eligible(alive), beta=1e3, flops_ref=costs.total())
    assert big.index == 0


def test_select_block_with_multiple_one_is_select_group():
    rng = np.random.default_rng(3)
    for _ in range(20):
        n = 30
        scores, savings = rng.random(n), rng.integers(1, 100, n)
        eligible, layer_of = rng.random(n) > 0.2, rng.integers(0, 4, n)
        alive = np.ones(n, bool)
        for kw in ({"beta_star": True}, {"beta": 0.0}, {"beta": 5.0, "flops_ref": 100.0}):
            block, _choice = select_block(scores, savings, eligible, layer_of, alive, np.ones(4), 1, **kw)
            assert block == [select_group(scores, savings, eligible, **kw).index]


def test_round_candidates_are_the_k_best_maps():
    from edgesal.pruning.selection import round_candidates

    scores = np.array([0.3, 0.0, 0.2, 0.0, 0.1])
    savings = np.array([1, 1, 10, 5, 1])
    eligible = np.array([True, True, True, False, True])
    assert round_candidates(scores, savings, eligible, 2).tolist() == [False, True, False, False, True]
    assert round_candidates(scores, savings, eligible, 2, beta_star=True).tolist() == [False, True, True, False, False]
    assert round_candidates(scores, savings, eligible, 10).sum() == 4


def test_select_block_removes_down_to_channel_multiples():
    layer_of = np.array([0] * 6 + [1] * 8)  # layer 0: 6 maps (not a multiple of 4), layer 1: 8
    alive = np.ones(14, bool)
    scores = np.array([0.5, 0.1, 0.2, 0.9, 0.9, 0.9] + [0.3] * 8)
    savings = np.full(14, 10)
    block, choice = select_block(scores, savings, alive, layer_of, alive, np.ones(2), 4, beta=0.0)
    assert sorted(block) == [1, 2]  # 6 → 4: the two cheapest maps of layer 0 (0.3 < four maps of layer 1)
    assert choice.beta_k == pytest.approx(0.3 / 20)
    lead = np.zeros(14, bool)
    lead[6] = True  # only blocks whose best map is 6 may go: layer 1's
    block, _ = select_block(scores, savings, alive, layer_of, alive, np.ones(2), 4, lead=lead, beta=0.0)
    assert len(block) == 4 and set(block) <= set(range(6, 14))
    alive[[1, 2]] = False
    block, _ = select_block(scores, savings, alive, layer_of, alive, np.ones(2), 4, beta=0.0)
    assert len(block) == 4 and set(block) <= set(range(6, 14))  # layer 1: 8 → 4 (sum 1.2 < 0.5 + 2.7)
    block, _ = select_block(scores, savings, alive, layer_of, alive, np.array([1, 5]), 4, beta=0.0)
    assert block == []  # layer 1 may not drop below 5 maps and layer 0 never loses all its maps


# --- physical removal -------------------------------------------------------------------------

def _check_equal(model: nn.Module, shape: tuple[int, ...], frac: float, tmp_path=None, spec=None, atol=1e-5):
    model = _randomise(model).eval()
    graph = trace_dependencies(model, (1, *shape[1:]))
    alive = _random_alive(graph, frac)
    assert (~alive).sum() > 0
    x = torch.randn(*shape)
    with ChannelMasks(graph, alive), torch.no_grad():
        masked = model(x)
    pruned = physically_prune(model, graph, alive).eval()
    with torch.no_grad():
        out = pruned(x)
    assert (out - masked).abs().max() <= atol
    assert FlopCostModel(graph).total(alive) == count_flops(pruned, (1, *shape[1:])).total_flops
    assert sum(p.numel() for p in pruned.parameters()) < sum(p.numel() for p in model.parameters())
    if tmp_path is not None:
        meta = {"pruned_channels": pruned_channel_config(pruned)}
        path = save_checkpoint(tmp_path / "pruned.pt", pruned, spec, meta=meta)
        loaded, _, meta = load_checkpoint(path)
        with torch.no_grad():
            assert torch.equal(loaded(x), out)
    return masked, out


def test_physical_removal_hand_built():
    _masked, out = _check_equal(Mixed(), (2, 3, 8, 8), 0.4)
    assert out.shape == (2, 1, 8, 8)
    _check_equal(Stack(), (2, 3, 8, 8), 0.4)


@pytest.mark.parametrize("name", ["uva_tiny_readout", "fastsal_a_mnv2_readout", "fastsal_c_mnv2"])
def test_physical_removal_real_architectures(name, tmp_path):
    hw = (64, 64) if name.startswith("uva") else (64, 96)
    spec = get_spec(name).with_input_hw(hw)
    torch.manual_seed(0)
    _check_equal(build_model(spec), (2, 3, *hw), 0.3, tmp_path, spec)


def test_apply_channel_config_rejects_foreign_config():
    from edgesal.errors import EdgesalError

    model = build_model("uva_tiny_readout")
    config = pruned_channel_config(model)
    config["modules"]["backbone.nonexistent"] = {"type": "Conv2d", "in_channels": 1, "out_channels": 1, "groups": 1}
    with pytest.raises(EdgesalError):
        apply_channel_config(model, config)



def _scaled_model_types() -> tuple[type, type]:
    """A fresh layer type (unknown to the tracer) and a model using it, per call."""

    class ChannelScale(nn.Module):
        """A per-channel scale: a layer type the tracer does not know (its ``x * w`` looks like a
        broadcast with a constant, which blocks the channels)."""

        def __init__(self, channels: int):
            super().__init__()
            self.scale = nn.Parameter(torch.rand(channels) + 0.5)

        def forward(self, x):
            return x * self.scale.view(1, -1, 1, 1)

    class Scaled(nn.Module):
        def __init__(self):
            super().__init__()
            self.c1, self.s, self.a = nn.Conv2d(3, 8, 3, padding=1), ChannelScale(8), nn.ReLU()
            self.c2, self.head = nn.Conv2d(8, 4, 1), nn.Conv2d(4, 1, 1)

        def forward(self, x):
            return self.head(self.c2(self.a(self.s(self.c1(x)))))

    return ChannelScale, Scaled


def test_custom_layer_type_is_one_registration():
    from edgesal.models.channel_config import ChannelLayout, replace_tensor, resize_tensor
    from edgesal.pruning import LayerPruner, register_layer
    from edgesal.pruning.layers import FOLLOW

    ChannelScale, Scaled = _scaled_model_types()
    torch.manual_seed(0)
    assert trace_dependencies(Scaled(), (1, 3, 8, 8)).num_groups == 4  # only c2's maps before registering

    class ChannelScaleLayout(ChannelLayout):
        def describe(self, module):
            return {"type": "ChannelScale", "channels": module.scale.numel()}

        def resize(self, module, entry):
            resize_tensor(module, "scale", (int(entry["channels"]),))

    class ChannelScalePruner(LayerPruner):
        module_types = (ChannelScale,)
        layout = ChannelScaleLayout()

        def rule(self, module, in_shape, out_shape):
            return FOLLOW, {}

        def slices(self, module):
            return True

        def slice(self, module, keep_in, keep_out):
            replace_tensor(module, "scale", module.scale[torch.as_tensor(keep_out)])

    register_layer(ChannelScalePruner())
    model = Scaled()
    graph = trace_dependencies(model, (1, 3, 8, 8))
    assert graph.num_groups == 8 + 4 and {n for g in graph.groups for n, _ in g.consumers} == {"c2", "head"}
    _check_equal(model, (2, 3, 8, 8), 0.4)
    alive = _random_alive(graph, 0.4)
    pruned = physically_prune(model, graph, alive).eval()
    config = pruned_channel_config(pruned)
    assert config["modules"]["s"] == {"type": "ChannelScale", "channels": pruned.s.scale.numel()}
    rebuilt = apply_channel_config(Scaled(), config)
    rebuilt.load_state_dict(pruned.state_dict())
    x = torch.randn(2, 3, 8, 8)
    with torch.no_grad():
        assert torch.equal(rebuilt.eval()(x), pruned(x))


def test_cli_methods_are_the_criteria_registry():
    from edgesal.cli.prune import METHODS
    from edgesal.pruning import CRITERIA

    assert list(METHODS) == list(CRITERIA) and "fisher" in METHODS


# --- driver and CLI ---------------------------------------------------------------------------

def _prune_args(data, out, *extra):
    return ["prune", "--model", "uva_tiny_readout", "--data", f"{data}:train", "--signal-steps", "2",
            "--batch", "4", "--out", str(out), "--cache-dir", str(out.parent / "cache"), "--threads", "1", *extra]


def test_cli_prune_smoke_and_resume(blob_dataset, tmp_path, capsys):
    assert main(_prune_args(blob_dataset, tmp_path / "a", "--prune", "2", "--finetune-steps", "2",
                            "--val", f"{blob_dataset}:val")) == 0
    assert "removed 2 feature maps" in capsys.readouterr().out
    model, _spec, meta = load_checkpoint(tmp_path / "a" / "pruned.pt")
    p = meta["pruning"]
    assert p["pruned_maps"] == 2 and p["method"] == "fisher" and len(p["pruned_groups"]) == 2
    assert p["flops_after"] < p["flops_before"]
    assert count_flops(model, (1, 3, 64, 64)).total_flops == p["flops_after"]
    assert np.isfinite(p["val_loss_after"])
    log = json.loads((tmp_path / "a" / "prune_log.json").read_text())
    assert log["status"] == "finished" and len(log["history"]) == 2
    # interrupted after 1 map, resumed to 2: same trajectory as a direct run of 2
    assert main(_prune_args(blob_dataset, tmp_path / "b", "--prune", "1")) == 0
    assert main(_prune_args(blob_dataset, tmp_path / "b", "--prune", "2", "--resume")) == 0
    assert main(_prune_args(blob_dataset, tmp_path / "c", "--prune", "2")) == 0
    b, _, mb = load_checkpoint(tmp_path / "b" / "pruned.pt")
    c, _, mc = load_checkpoint(tmp_path / "c" / "pruned.pt")
    assert mb["pruning"]["pruned_groups"] == mc["pruning"]["pruned_groups"]
    for (name, pb), (_, pc) in zip(b.state_dict().items(), c.state_dict().items()):
        assert torch.allclose(pb.float(), pc.float(), atol=1e-5), name
    # a trajectory option may not change on resume
    assert main(_prune_args(blob_dataset, tmp_path / "b", "--prune", "3", "--resume", "--method", "l1a")) == 2


def test_cli_flop_target_and_beta_star(blob_dataset, tmp_path):
    assert main(_prune_args(blob_dataset, tmp_path / "f", "--flops", "97%", "--beta-star", "--method", "l1a")) == 0
    _, _, meta = load_checkpoint(tmp_path / "f" / "pruned.pt")
    p = meta["pruning"]
    assert p["beta_star"] and p["flops_after"] <= 0.97 * p["flops_before"]
    assert main(_prune_args(blob_dataset, tmp_path / "g")) == 2  # no stop rule


def test_maps_per_step_removes_several_maps_per_signal_round(blob_dataset, tmp_path):
    assert main(_prune_args(blob_dataset, tmp_path / "m", "--prune", "6", "--maps-per-step", "3")) == 0
    log = json.loads((tmp_path / "m" / "prune_log.json").read_text())
    steps = [h["train_step"] for h in log["history"]]
    assert len(steps) == 6 and len(set(steps)) == 2  # two signal rounds, three maps each
    flops = [h["flops"] for h in log["history"]]
    assert flops == sorted(flops, reverse=True) and len(set(flops)) == 6


def test_cli_prune_sweep(blob_dataset, tmp_path):
    out = tmp_path / "sweep"
    assert main(["prune-sweep", "--model", "uva_tiny_readout", "--data", f"{blob_dataset}:train",
                 "--methods", "fisher,l1w", "--betas", "star,fisher:0", "--prune", "1,2", "--signal-steps", "1",
                 "--batch", "4", "--no-retrain", "--limit", "2", "--out", str(out),
                 "--cache-dir", str(tmp_path / "cache"), "--threads", "1"]) == 0
    result = json.loads((out / "sweep.json").read_text())
    rows = result["rows"]
    assert len(rows) == 1 + 2 * 2 + 1 * 2  # fisher: β*, β=0; l1w: β* only
    assert {r["method"] for r in rows} == {"unpruned", "fisher", "l1w"}
    assert {r["beta"] for r in rows if r["method"] == "l1w"} == {"star"}
    assert all(r["auc_judd"] is not None and r["flops"] > 0 for r in rows)
    assert any(r["pareto"] for r in rows)
    if rows[0]["latency_ms"] is not None:
        assert rows[0]["latency_ms"] > 0
    assert (out / "sweep.md").read_text().startswith("| method")
    assert (out / "sweep.png").stat().st_size > 1000


def test_snapshots_at_flop_levels(blob_dataset, tmp_path):
    out = tmp_path / "lv"
    assert main(_prune_args(blob_dataset, out, "--flops", "60%", "--maps-per-step", "10", "--no-retrain",
                            "--snapshots", "90%,75%,5")) == 0
    full = count_flops(build_model("uva_tiny_readout"), (1, 3, *get_spec("uva_tiny_readout").input_hw)).total_flops
    for name, level in (("pruned_flops90.pt", 0.9), ("pruned_flops75.pt", 0.75)):
        model, spec, meta = load_checkpoint(out / "snapshots" / name)
        flops = count_flops(model, (1, 3, *spec.input_hw)).total_flops
        assert flops <= level * full and meta["pruning"]["flops_after"] == flops
        assert flops > (level - 0.1) * full  # taken when the level is first reached, not later
    _, _, meta5 = load_checkpoint(out / "snapshots" / "pruned_5.pt")
    assert meta5["pruning"]["pruned_maps"] == 5
    assert main(_prune_args(blob_dataset, out, "--prune", "3", "--snapshots", "120%")) == 2


def test_sweep_betas_per_method_and_errors():
    from edgesal.cli.prune import betas_per_method
    from edgesal.errors import EdgesalError

    assert betas_per_method(["fisher", "l1a"], "star,0,fisher:0.003") == {"fisher": ["star", 0.0, 0.003],
                                                                         "l1a": ["star", 0.0]}
    with pytest.raises(EdgesalError, match="not one of --methods"):
        betas_per_method(["fisher"], "taylor:0.1")
    with pytest.raises(EdgesalError, match="number or 'star'"):
        betas_per_method(["fisher"], "fisher:big")


def test_pruned_model_finetunes_with_edgesal_train(blob_dataset, tmp_path):
    assert main(_prune_args(blob_dataset, tmp_path / "p", "--prune", "3")) == 0
    pruned = tmp_path / "p" / "pruned.pt"
    _, _, meta_before = load_checkpoint(pruned)
    out = tmp_path / "ft"
    assert main(["train", "--init", str(pruned), "--data", f"{blob_dataset}:train", "--val", f"{blob_dataset}:val",
                 "--max-steps", "4", "--val-every", "2", "--batch", "4", "--threads", "1", "--out", str(out),
                 "--cache-dir", str(tmp_path / "cache")]) == 0
    model, spec, meta = load_checkpoint(out / "best.pt")
    assert meta["pruned_channels"] == meta_before["pruned_channels"]
    assert count_flops(model, (1, 3, *spec.input_hw)).total_flops == meta_before["pruning"]["flops_after"]


def test_channel_multiple_keeps_conv_widths_multiples(blob_dataset, tmp_path):
    assert main(_prune_args(blob_dataset, tmp_path / "c", "--prune", "100", "--maps-per-step", "20",
                            "--channel-multiple", "8", "--no-retrain", "--method", "l1w")) == 0
    pruned, _, meta = load_checkpoint(tmp_path / "c" / "pruned.pt")
    assert meta["pruning"]["pruned_maps"] >= 100
    full = build_model("uva_tiny_readout")
    widths = {n: m.out_channels for n, m in full.named_modules() if isinstance(m, torch.nn.Conv2d)}
    changed = 0
    for name, module in pruned.named_modules():
        if isinstance(module, torch.nn.Conv2d) and module.out_channels != widths[name]:
            changed += 1
            assert module.out_channels % 8 == 0, (name, module.out_channels, widths[name])
    assert changed > 0


def test_min_keep_floor_protects_every_layer(blob_dataset, tmp_path):
    assert main(_prune_args(blob_dataset, tmp_path / "k", "--prune", "400", "--maps-per-step", "20",
                            "--min-keep", "0.5", "--no-retrain", "--method", "l1w")) == 0
    pruned, _, _ = load_checkpoint(tmp_path / "k" / "pruned.pt")
    full = build_model("uva_tiny_readout")
    widths = {n: m.out_channels for n, m in full.named_modules() if isinstance(m, torch.nn.Conv2d)}
    for name, module in pruned.named_modules():
        if isinstance(module, torch.nn.Conv2d) and module.out_channels != widths[name]:
            assert module.out_channels >= widths[name] // 2, (name, module.out_channels, widths[name])
