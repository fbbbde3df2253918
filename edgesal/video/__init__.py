"""Video saliency: decode (PyAV), map frames with any image model (+ temporal smoothing),
write maps / overlays, simulate labelled clips, read video fixation datasets, score them.

Modules: :mod:`.reader` (decode), :mod:`.writer` (encode), :mod:`.frame_models` (stateful
frame → map interface, EMA smoothing), :mod:`.predict` (``edgesal predict VIDEO``),
:mod:`.camera` / :mod:`.simulate` (simulated clips), :mod:`.datasets` (loaders),
:mod:`.metrics` (temporal stability), :mod:`.evaluation` (per-frame metrics over clips).
PyAV is imported only when a video is opened. See docs/video.md.
"""
