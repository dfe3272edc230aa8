"""Latent-space explorers that decode in the rendered book itself, with no kernel (§2.3, §3.2).

The decoder's weights (float32, base64) and a forward pass in plain JavaScript (dense layers with the
activations of :class:`~thesis_lib.networks.Layer`) are written into the page's HTML, so an explorer
works offline and from ``file://``: nothing is fetched. Measured alternatives (npm registry,
2026-12): onnxruntime-web 1.30 fetches a 14.2 MB ``.wasm`` at run time, which Chromium refuses from
``file://``; ``@tensorflow/tfjs-core`` with ``tfjs-backend-cpu`` 4.22 is 426 KB of minified JavaScript
for what here is a chain of matrix–vector products. The hand-written pass is under 2 KB; the browser
test checks it against torch (``tests/test_book.py``).

Each explorer decodes z = base + Σ_k t_k · direction_k for the slider values t_k and publishes its
state as ``window.thesisExplorers[id]`` (``z``, ``image``: the decoder's raw output).

A chapter shows each explorer twice over: this copy for the book, and a widget in the next cell for a
live kernel. Under a Jupyter server (JupyterLab, which sets ``JPY_SESSION_NAME`` for its kernels) the
copy gives way to a one-line note, so that a reader there meets one explorer, the widget.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
from typing import Sequence

import torch
from IPython.display import HTML, Markdown
from torch import nn

from ..infra.validation import choice

#: what a kernel under a Jupyter server shows in the place of the in-page copy
LIVE_NOTE = "*The explorer is the widget of the next cell, decoded by this kernel.*"
#: activations the in-page forward pass knows (those of the book's decoders)
JS_ACTIVATIONS = ("relu", "tanh", "sigmoid", "identity")

#: an explorer's script: the element and its spec, the decoder (the spec's dense layers and ``decode``, their
#: forward pass), the canvas; then the explorer's own controls (``%(body)s``, which defines ``redraw``), a
#: first drawing, and its state published as ``window.thesisExplorers[id]``
_FRAME = """
(() => {
  const root = document.getElementById(%(id)s);
  const spec = JSON.parse(root.querySelector("script.explorer-spec").textContent);
  const f32 = (s) => {
    const b = atob(s), u = new Uint8Array(b.length);
    for (let i = 0; i < b.length; i++) u[i] = b.charCodeAt(i);
    return new Float32Array(u.buffer);
  };
  const act = {relu: (v) => (v > 0 ? v : 0), tanh: Math.tanh, identity: (v) => v,
               sigmoid: (v) => 1 / (1 + Math.exp(-v))};
  const layers = spec.layers.map((l) => ({W: f32(l.W), b: f32(l.b), n: l.out, k: l.in, f: act[l.activation]}));
  const decode = (z) => {
    let h = Float64Array.from(z);
    for (const L of layers) {
      const o = new Float64Array(L.n);
      for (let i = 0; i < L.n; i++) {
        let s = L.b[i];
        for (let j = 0, r = i * L.k; j < L.k; j++) s += L.W[r + j] * h[j];
        o[i] = L.f(s);
      }
      h = o;
    }
    return h;
  };
  const ctx = root.querySelector("canvas").getContext("2d");
  const img = ctx.createImageData(spec.side, spec.side);
  const draw = (x) => {
    for (let p = 0; p < x.length; p++) {
      const v = Math.round(255 * Math.min(1, Math.max(0, x[p])));
      img.data.set([v, v, v, 255], 4 * p);
    }
    ctx.putImageData(img, 0, 0);
  };
  // the arrow keys move a focused control; JupyterLab's notebook would take them to move between cells
  const ownKeys = (controls) => controls.forEach((c) => c.addEventListener("keydown", (e) => e.stopPropagation()));
  const state = {decode};
%(body)s
  redraw();
  (window.thesisExplorers = window.thesisExplorers || {})[%(id)s] = state;
})();
"""

#: the latent explorers: sliders t_k, z = base + Σ_k t_k · directions[k]
_SLIDERS = """
  const sliders = [...root.querySelectorAll("input[type=range]")];
  const redraw = () => {
    const t = sliders.map((s) => parseFloat(s.value));
    const z = spec.base.map((b, d) => t.reduce((acc, v, k) => acc + v * spec.directions[k][d], b));
    const x = decode(z);
    draw(x);
    sliders.forEach((s, k) => { s.nextElementSibling.textContent = t[k].toFixed(2); });
    Object.assign(state, {t, z, image: Array.from(x)});
  };
  sliders.forEach((s) => s.addEventListener("input", redraw));
  ownKeys(sliders);
"""

#: two digits on demand: a digit for each slot and a style slider t, both digits decoded from z = base + t · direction
_ON_DEMAND = """
  const selects = [...root.querySelectorAll("select")];
  const slider = root.querySelector("input[type=range]");
  const redraw = () => {
    const t = parseFloat(slider.value);
    const digits = selects.map((s) => parseInt(s.value, 10));
    const z = spec.base.map((b, d) => b + t * spec.direction[d]);
    const canvas = new Float64Array(48 * 48);
    digits.forEach((digit, slot) => {
      const x = decode(z.concat(Array.from({length: 10}, (_, k) => (k === digit ? 1 : 0))));
      const [r0, c0] = spec.positions[slot];
      for (let r = 0; r < 28; r++) {
        for (let c = 0; c < 28; c++) {
          const p = (r0 + r) * 48 + c0 + c;
          canvas[p] = Math.max(canvas[p], x[r * 28 + c]);
        }
      }
    });
    draw(canvas);
    slider.nextElementSibling.textContent = t.toFixed(2);
    Object.assign(state, {digits, t, z, image: Array.from(canvas)});
  };
  selects.forEach((s) => s.addEventListener("change", redraw));
  slider.addEventListener("input", redraw);
  ownKeys([...selects, slider]);
"""


def dense_layers(network: nn.Module, output: str = "identity") -> list[dict]:
    """The layers of a dense network (``network.layers``, each a :class:`~thesis_lib.networks.Layer`)
    as plain values, float32 weights in base64; ``output`` is applied after the last layer (the
    VAE's Bernoulli mean: ``"sigmoid"``)."""
    choice("output", output, JS_ACTIVATIONS)
    layers = []
    for layer in network.layers:
        choice("activation", layer.activation, JS_ACTIVATIONS)
        W, b = (p.detach().float().cpu().contiguous() for p in layer.theta)
        layers.append({"in": W.shape[1], "out": W.shape[0], "activation": layer.activation,
                       "W": base64.b64encode(W.numpy().tobytes()).decode(),
                       "b": base64.b64encode(b.numpy().tobytes()).decode()})
    if output != "identity":
        if layers[-1]["activation"] != "identity":
            raise ValueError(f"output={output!r} needs a linear last layer, not one with activation "
                             f"{layers[-1]['activation']!r}")
        layers[-1]["activation"] = output
    return layers


def weights_md5(layers: Sequence[dict]) -> str:
    """md5 of the float32 bytes of W and b of every layer, in order (the page states it)."""
    digest = hashlib.md5()
    for layer in layers:
        digest.update(base64.b64decode(layer["W"]))
        digest.update(base64.b64decode(layer["b"]))
    return digest.hexdigest()


def explorer(element_id: str, layers: list[dict], *, base: Sequence[float], directions: Sequence[Sequence[float]],
             sliders: Sequence[tuple[str, float, float, float]], title: str, experiment: str,
             side: int = 28) -> HTML | Markdown:
    """An in-page explorer: sliders (label, low, high, start) t_k, the decoded image of
    z = base + Σ_k t_k · directions[k], drawn ``side`` × ``side`` pixels and enlarged; under a Jupyter
    server, :data:`LIVE_NOTE` instead (the arguments are checked all the same)."""
    if len(directions) != len(sliders):
        raise ValueError(f"{len(sliders)} sliders need as many directions, got {len(directions)}")
    if any(len(d) != len(base) for d in directions) or layers[0]["in"] != len(base):
        raise ValueError(f"base and every direction must have the decoder's input size {layers[0]['in']}")
    if layers[-1]["out"] != side * side:
        raise ValueError(f"side={side} does not fit the decoder's {layers[-1]['out']} outputs")
    spec = {"layers": layers, "base": [float(v) for v in base], "side": side,
            "directions": [[float(v) for v in d] for d in directions]}
    rows = "".join(_slider_row(label, low, high, start) for label, low, high, start in sliders)
    return _frame(element_id, experiment, title, rows, spec, _SLIDERS)


def _slider_row(label: str, low: float, high: float, start: float) -> str:
    return (f'<label style="display:flex;gap:.5em;align-items:center;margin:.2em 0">'
            f'<span style="min-width:5.5em">{html.escape(label)}</span>'
            f'<input type="range" min="{low}" max="{high}" step="{(high - low) / 200:.6g}" value="{start}" '
            f'style="flex:1;min-width:6em"><output style="min-width:3.5em">{start:.2f}</output></label>')


def _frame(element_id: str, experiment: str, title: str, controls: str, spec: dict, body: str) -> HTML | Markdown:
    """The explorer's box: title and controls, the canvas (``spec["side"]`` pixels, enlarged), the spec and
    the script (:data:`_FRAME` around ``body``); under a Jupyter server :data:`LIVE_NOTE`."""
    side = spec["side"]
    if "JPY_SESSION_NAME" in os.environ:
        return Markdown(LIVE_NOTE)
    element = json.dumps(element_id)
    return HTML(
        f'<div id="{html.escape(element_id)}" class="thesis-explorer" data-experiment="{html.escape(experiment)}" '
        f'data-weights-md5="{weights_md5(spec["layers"])}" style="display:flex;flex-wrap:wrap;gap:1em;'
        f'align-items:center;margin:1em 0;padding:.8em;border:1px solid #ccc;border-radius:6px">'
        f'<div style="flex:1 1 16em"><strong>{html.escape(title)}</strong>{controls}</div>'
        f'<canvas width="{side}" height="{side}" style="width:168px;height:168px;image-rendering:pixelated;'
        f'border:1px solid #999;background:#000"></canvas>'
        f'<script type="application/json" class="explorer-spec">{json.dumps(spec)}</script>'
        f"<script>{_FRAME % {'id': element, 'body': body}}</script></div>")


def _digit_select(name: str, chosen: int) -> str:
    options = "".join(f'<option value="{d}"{" selected" if d == chosen else ""}>{d}</option>' for d in range(10))
    return (f'<label style="display:inline-flex;gap:.4em;align-items:center;margin:.2em 1em .2em 0">'
            f'{name}<select aria-label="{name}">{options}</select></label>')


def on_demand_explorer(element_id: str, decoder: nn.Module, experiment: str, direction: Sequence[float],
                       positions: Sequence[Sequence[int]], start: tuple[int, int] = (3, 7),
                       limit: float = 2.5, title: str = "") -> HTML | Markdown:
    """Composed MNIST on demand in the page (chapter 3.3): a digit for each slot and a style slider t.
    The decoder of a conditional VAE of single digits (input: code, then the one-hot digit) decodes
    z = t · ``direction`` with each slot's digit; the two digits are placed with their fields' top-left
    corners at ``positions`` ((row, column) of the left and the right slot) on a 48×48 canvas, combined
    by the pixel-wise maximum."""
    layers = dense_layers(decoder, "sigmoid")
    if layers[0]["in"] != len(direction) + 10 or layers[-1]["out"] != 784:
        raise ValueError(f"the decoder must map a code of {len(direction)} (the direction's size) and 10 digit "
                         f"entries to 784 pixels; it maps {layers[0]['in']} to {layers[-1]['out']}")
    spec = {"layers": layers, "base": [0.0] * len(direction), "direction": [float(v) for v in direction],
            "positions": [list(map(int, p)) for p in positions], "side": 48}
    selects = "".join(_digit_select(name, digit) for name, digit in (("left digit", start[0]),
                                                                      ("right digit", start[1])))
    controls = f"<div>{selects}</div>" + _slider_row("style", -limit, limit, 0.0)
    return _frame(element_id, experiment, title, controls, spec, _ON_DEMAND)


def grid_explorer(element_id: str, decoder: nn.Module, experiment: str, ranges: Sequence[tuple[float, float]],
                  output: str = "identity", title: str = "") -> HTML | Markdown:
    """One slider per latent coordinate, over ``ranges`` [(low, high)] (starting at their middles)."""
    k = len(ranges)
    sliders = [(f"z{j + 1}", low, high, round((low + high) / 2, 3)) for j, (low, high) in enumerate(ranges)]
    directions = torch.eye(k).tolist()
    return explorer(element_id, dense_layers(decoder, output), base=[0.0] * k, directions=directions,
                    sliders=sliders, title=title, experiment=experiment)


def path_explorer(element_id: str, decoder: nn.Module, experiment: str, start: torch.Tensor, end: torch.Tensor,
                  output: str = "identity", title: str = "") -> HTML | Markdown:
    """One slider t ∈ [0, 1] along the segment (1 − t)·start + t·end of the latent space."""
    start, end = start.detach().float().cpu(), end.detach().float().cpu()
    return explorer(element_id, dense_layers(decoder, output), base=start.tolist(),
                    directions=[(end - start).tolist()], sliders=[("t", 0.0, 1.0, 0.5)], title=title,
                    experiment=experiment)
