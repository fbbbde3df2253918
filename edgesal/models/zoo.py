"""The registered architectures (students, readout variants, the UVA-style tiny and temporal models)."""

from edgesal.models.registry import ModelSpec, register_model

for _backbone, _short in (("mobilenet_v2", "mnv2"), ("efficientnet_lite0", "effl0")):
    register_model(ModelSpec(f"fastsal_c_{_short}", _backbone, "fastsal_c", "sigmoid",
                             description=f"FastSal C decoder (concat + pixel shuffle), sigmoid map, {_backbone}"))
    register_model(ModelSpec(f"fastsal_a_{_short}", _backbone, "fastsal_a", "sigmoid",
                             description=f"FastSal A decoder (FPN addition + inverted residuals), sigmoid map, "
                                         f"{_backbone}"))
    register_model(ModelSpec(f"fastsal_c_{_short}_readout", _backbone, "fastsal_c", "readout",
                             description=f"FastSal C decoder + Fisher-pruning readout (log density), {_backbone}"))
    register_model(ModelSpec(f"fastsal_a_{_short}_readout", _backbone, "fastsal_a", "readout",
                             description=f"FastSal A decoder + Fisher-pruning readout (log density), {_backbone}"))
    register_model(ModelSpec(f"deepgaze_{_short}_readout", _backbone, "concat", "readout",
                             description=f"DeepGaze II-style concat features + readout (log density), {_backbone}"))

register_model(ModelSpec("uva_tiny", "uva_tiny", "fastsal_c", "sigmoid", input_hw=(64, 64),
                         decoder_kwargs={"width": 8},
                         description="UVA-Net-style depthwise model at 64×64, sigmoid map"))
register_model(ModelSpec("uva_tiny_readout", "uva_tiny", "fastsal_c", "readout", input_hw=(64, 64),
                         decoder_kwargs={"width": 8},
                         description="UVA-Net-style depthwise model at 64×64 with readout head (log density)"))
register_model(ModelSpec("uva_temporal", "uva_tiny", "fastsal_c", "readout", input_hw=(64, 96),
                         decoder_kwargs={"width": 12}, temporal="gru_lite",
                         description="UVA-Net-style temporal student: depthwise 64×96 spatial path + ConvGRU-lite "
                                     "state at stride 8, readout head (log density), run frame by frame"))
