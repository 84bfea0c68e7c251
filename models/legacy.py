"""Reload Keras 1.x / 2.x HDF5 model files (e.g. the released ``pathnet_model_v2.h5``) in Keras 3.

The file is read with h5py only: the ``model_config`` JSON, the ``model_weights`` group
(``layer_names``, per-layer ``weight_names``) and the version/backend attributes. Nothing in
the file is executed or unpickled; layer types and arguments outside a fixed list are refused
with an error naming the layer. The result is the equivalent channels-last Keras 3 model with
the file's layer names (conversion rules: SPEC section 8 and :mod:`models.legacy_layers`).

Command line::

    python -m models.legacy weights/pathnet_model_v2.h5 weights/pathnet_model_v2.keras

writes a Keras 3 ``.keras`` file that ``keras.saving.load_model(path, safe_mode=True)`` opens,
and prints the layer chain, the parameter count and the input size the model is tied to.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

import h5py
import keras
import numpy as np

from data_prep.errors import InputError, atomic_path, check_writable, run_cli
from models.legacy_layers import Context, LayerSpec, layer_ordering, translate

BACKENDS = ("theano", "tensorflow")
_TF_SUFFIX = re.compile(r":\d+$")


def _text(value: Any) -> str:
    """An HDF5 string attribute (bytes, str or 0-d array) as str."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    return value.decode("utf8") if isinstance(value, bytes) else str(value)


def _attr(obj: h5py.HLObject, name: str) -> Any:
    """An attribute, joining the chunks ``name0``, ``name1``... Keras 2 uses for long lists."""
    if name in obj.attrs:
        return obj.attrs[name]
    chunks = []
    while f"{name}{len(chunks)}" in obj.attrs:
        chunks.append(np.asarray(obj.attrs[f"{name}{len(chunks)}"]))
    return np.concatenate(chunks) if chunks else None


def _names(value: Any) -> list[str]:
    """A list-of-strings attribute (possibly an empty float array) as a list of str."""
    if value is None:
        return []
    return [_text(v) for v in np.asarray(value).reshape(-1) if isinstance(v, (bytes, str))]


def _one_inbound(path: str, entry: dict) -> str | None:
    """The single input layer of a functional-model layer entry (None for an InputLayer)."""
    name, nodes = entry.get("name"), entry.get("inbound_nodes", [])
    if not nodes:
        return None
    if not isinstance(nodes, list) or len(nodes) != 1 or not isinstance(nodes[0], list):
        raise InputError(f"{path}: layer '{name}' ({entry.get('class_name')}): unsupported "
                         "inbound_nodes (shared layers are not supported)")
    if len(nodes[0]) != 1 or not isinstance(nodes[0][0], list) or nodes[0][0][1:3] != [0, 0]:
        raise InputError(f"{path}: layer '{name}' ({entry.get('class_name')}): unsupported "
                         "inbound_nodes (only layers with one input are supported)")
    return str(nodes[0][0][0])


def _parse_model_config(path: str, config: Any) -> tuple[str, list[LayerSpec], list[str], list]:
    """(model name, layers in order, output layer names, batch input shape) from model_config."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise InputError(f"{path}: model_config is not a Keras model description")
    cls, body = config["class_name"], config.get("config")
    layers: list[LayerSpec] = []
    if cls == "Sequential":
        name = body.get("name", "sequential") if isinstance(body, dict) else "sequential"
        entries = body.get("layers") if isinstance(body, dict) else body
        if not isinstance(entries, list) or not entries:
            raise InputError(f"{path}: model_config has no layers")
        previous = None
        for entry in entries:
            spec = LayerSpec(str(entry["config"]["name"]), entry["class_name"],
                             dict(entry["config"]), previous)
            layers.append(spec)
            previous = spec.name
        first = layers[0]
        if first.class_name != "InputLayer":
            shape = first.config.get("batch_input_shape")
            if shape is None and isinstance(body, dict):
                shape = body.get("build_input_shape")
            layers.insert(0, LayerSpec(f"{first.name}_input", "InputLayer",
                                       {"batch_input_shape": shape}))
            first.inbound = layers[0].name
        return name, layers, [layers[-1].name], layers[0].config.get("batch_input_shape")
    if cls in ("Model", "Functional") and isinstance(body, dict):
        for entry in body.get("layers", []):
            layers.append(LayerSpec(str(entry["name"]), entry["class_name"],
                                    dict(entry["config"]), _one_inbound(path, entry)))
        ins, outs = body.get("input_layers", []), body.get("output_layers", [])
        ins = [ins] if ins and isinstance(ins[0], str) else ins
        outs = [outs] if outs and isinstance(outs[0], str) else outs
        inputs = [s for s in layers if s.class_name == "InputLayer"]
        if len(ins) != 1 or len(inputs) != 1 or inputs[0].name != ins[0][0]:
            raise InputError(f"{path}: unsupported model with {len(ins)} inputs (only one)")
        if not outs:
            raise InputError(f"{path}: model_config names no output layers")
        shape = inputs[0].config.get("batch_input_shape", inputs[0].config.get("batch_shape"))
        return body.get("name", "model"), layers, [str(o[0]) for o in outs], shape
    raise InputError(f"{path}: unsupported model class {cls!r} (Sequential or Model only)")


def _detect_backend(root: h5py.File, weights: dict[str, list]) -> tuple[str, str]:
    """(backend, how it was found): the backend attribute, else the weight names."""
    for obj in (root, root["model_weights"]):
        value = _attr(obj, "backend")
        if value is not None:
            return _text(value), "the file's backend attribute"
    names = [n for items in weights.values() for n, _ in items]
    if not names:
        return "tensorflow", "assumed (no weights in the file)"
    if any(_TF_SUFFIX.search(n) for n in names):
        return "tensorflow", "weight names end in ':0'"
    return "theano", "weight names lack TensorFlow's ':0'"


def _read(path: str | Path) -> tuple[dict, dict[str, list[tuple[str, np.ndarray]]]]:
    """Parse a legacy file: (description, {layer name: [(weight name, array), ...]})."""
    path = str(path)
    if not Path(path).is_file():
        raise InputError(f"{path}: no such file")
    try:
        with h5py.File(path, "r") as root:
            raw = _attr(root, "model_config")
            if raw is None:
                raise InputError(f"{path}: no model_config attribute (a weights-only file, "
                                 "or not a Keras model file)")
            if "model_weights" not in root:
                raise InputError(f"{path}: no model_weights group")
            group = root["model_weights"]
            weights = {}
            for layer in _names(_attr(group, "layer_names")):
                names = _names(_attr(group[layer], "weight_names"))
                weights[layer] = [(n, np.asarray(group[layer][n], dtype=np.float32))
                                  for n in names]
            backend, how = _detect_backend(root, weights)
            version = _attr(root, "keras_version")
            version = _attr(group, "keras_version") if version is None else version
            config = json.loads(_text(raw))
    except InputError:
        raise
    except (OSError, KeyError, ValueError, TypeError) as err:
        detail = " ".join(str(err).split())
        raise InputError(f"{path}: not a readable Keras HDF5 model file ({detail})") from None
    try:
        name, layers, outputs, shape = _parse_model_config(path, config)
    except (KeyError, TypeError, AttributeError) as err:
        raise InputError(f"{path}: malformed model_config ({err!r})") from None
    # Flatten's data_format says how it orders its output, not how its input is laid out.
    orderings = {layer_ordering(s.config) for s in layers if s.class_name != "Flatten"} - {None}
    info = {
        "path": path,
        "keras_version": None if version is None else _text(version),
        "backend": backend,
        "backend_source": how,
        "model_class": config["class_name"],
        "name": name,
        "dim_ordering": orderings.pop() if len(orderings) == 1 else None,
        "mixed_orderings": len(orderings) > 0,
        "input_shape": shape,
        "layers": [{"name": s.name, "class_name": s.class_name, "config": s.config,
                    "inbound": s.inbound} for s in layers],
        "outputs": outputs,
        "weights": {k: [(n, tuple(a.shape)) for n, a in v] for k, v in weights.items()},
    }
    return info, weights


def read_legacy_config(path: str | Path) -> dict:
    """Describe a legacy Keras HDF5 model file without building it.

    Keys: path, keras_version, backend ("theano"/"tensorflow"), backend_source, model_class,
    name, dim_ordering ("th"/"tf"/None), input_shape (batch_input_shape as stored, in the file's
    ordering), layers (name, class_name, config, inbound), outputs, weights (layer ->
    [(weight name, shape)]).
    """
    return _read(path)[0]


def _input_shape(path: str, info: dict) -> tuple:
    """Channels-last input shape without the batch axis from the stored batch_input_shape."""
    shape = info["input_shape"]
    if not isinstance(shape, (list, tuple)) or len(shape) not in (2, 4):
        raise InputError(f"{path}: unsupported or missing batch_input_shape {shape!r} "
                         "(need a 4-D image input or a 2-D vector input)")
    if len(shape) == 2:
        return (shape[1],)
    if info["dim_ordering"] is None:
        raise InputError(f"{path}: cannot tell whether the 4-D input is channels-first or "
                         "channels-last (no layer states dim_ordering/data_format)")
    return tuple(shape[2:4]) + (shape[1],) if info["dim_ordering"] == "th" else tuple(shape[1:])


def _safe_name(name: str) -> str:
    """A model name Keras 3 accepts."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name) or "model"


def convert_legacy(path: str | Path, backend: str | None = None) -> tuple[keras.Model, dict]:
    """Build the channels-last Keras 3 model of a legacy file; return (model, report).

    ``backend`` ("theano" or "tensorflow") overrides the detected one; it decides whether the
    convolution kernels are flipped. The report is :func:`read_legacy_config`'s description plus
    ``backend_used``, ``flipped`` (kernels flipped), ``fixed_input`` ([(layer name, reason)]
    for the layers that tie the model to its input size) and ``input_size`` ((height, width)
    or None).
    """
    path = str(path)
    if backend is not None and backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    info, weights = _read(path)
    used = backend or info["backend"]
    if used not in BACKENDS:
        raise InputError(f"{path}: unsupported backend {used!r} (theano or tensorflow)")
    if info["mixed_orderings"]:
        raise InputError(f"{path}: the model mixes channels-first and channels-last layers "
                         "(unsupported)")
    specs = [LayerSpec(d["name"], d["class_name"], d["config"], d["inbound"])
             for d in info["layers"]]
    ctx = Context(path, used, info["dim_ordering"], taken={s.name for s in specs})
    shape = _input_shape(path, info)
    tensors: dict[str, Any] = {}
    pending = list(specs)
    while pending:
        ready = [s for s in pending if s.inbound is None or s.inbound in tensors]
        if not ready:
            missing = pending[0]
            raise InputError(f"{path}: layer '{missing.name}' ({missing.class_name}): its input "
                             f"'{missing.inbound}' is not in the model")
        for spec in ready:
            if spec.class_name == "InputLayer":
                if spec.inbound is not None:
                    raise ctx.error(spec, "an InputLayer with an input")
                tensors[spec.name] = keras.Input(shape=shape, dtype="float32", name=spec.name)
            elif spec.inbound is None:
                raise ctx.error(spec, "has no input layer")
            else:
                tensors[spec.name] = translate(ctx, spec, tensors[spec.inbound])
            pending.remove(spec)
    inputs = next(tensors[s.name] for s in specs if s.class_name == "InputLayer")
    try:
        outputs = [tensors[name] for name in info["outputs"]]
    except KeyError as err:
        raise InputError(f"{path}: output layer {err} is not in the model") from None
    model = keras.Model(inputs, outputs[0] if len(outputs) == 1 else outputs,
                        name=_safe_name(info["name"]))
    _assign_weights(ctx, weights)
    report = dict(info)
    report.update(
        backend_used=used,
        flipped=used == "theano" and any(
            p.spec.class_name in ("Convolution2D", "Conv2D", "Deconvolution2D", "Conv2DTranspose")
            for p in ctx.plans
        ),
        fixed_input=list(ctx.fixed),
        input_size=tuple(shape[:2]) if len(shape) == 3 else None,
    )
    return model, report


def _assign_weights(ctx: Context, weights: dict[str, list[tuple[str, np.ndarray]]]) -> None:
    """Convert each planned layer's arrays and set them; refuse missing or misshaped weights."""
    planned = {p.spec.name for p in ctx.plans}
    for plan in ctx.plans:
        spec, layer = plan.spec, plan.layer
        items = weights.get(spec.name)
        if not items:
            raise ctx.error(spec, "has no weights in model_weights")
        needed = [tuple(w.shape) for w in layer.weights]
        if len(items) != len(needed):
            raise ctx.error(spec, f"the file holds {len(items)} weight arrays "
                            f"({', '.join(n for n, _ in items)}), the layer needs {len(needed)}")
        values = plan.convert([a for _, a in items])
        for (name, stored), value, want in zip(items, values, needed, strict=True):
            if tuple(value.shape) != want:
                raise ctx.error(spec, f"weight '{name}' has shape {tuple(stored.shape)}, which "
                                f"does not fit the layer's {want} after conversion")
        layer.set_weights([np.ascontiguousarray(v, dtype=np.float32) for v in values])
    extra = sorted(k for k, v in weights.items() if v and k not in planned)
    if extra:
        raise InputError(f"{ctx.path}: model_weights holds weights for layers the model does not "
                         f"use: {', '.join(extra)}")


def load_legacy_model(path: str | Path, backend: str | None = None) -> keras.Model:
    """Load a Keras 1.x/2.x HDF5 model file as a channels-last Keras 3 model (weights set)."""
    return convert_legacy(path, backend)[0]


def describe(model: keras.Model, report: dict) -> str:
    """Human-readable conversion summary: layer chain, parameters, input size, backend."""
    lines = [f"source: {report['path']} (Keras {report['keras_version'] or 'unknown'}, "
             f"{report['model_class']}, dim_ordering {report['dim_ordering'] or 'n/a'})",
             f"backend: {report['backend_used']} ({report['backend_source']}"
             f"{'; overridden' if report['backend_used'] != report['backend'] else ''}); "
             f"kernels {'flipped (Theano true convolution)' if report['flipped'] else 'not flipped'}",
             "layers:"]
    for layer in model.layers:
        shape = tuple(layer.output.shape[1:])
        lines.append(f"  {layer.name:<28} {type(layer).__name__:<20} {str(shape):<18} "
                     f"{layer.count_params():>12,}")
    lines.append(f"parameters: {model.count_params():,}")
    size = report["input_size"]
    shape = tuple(model.inputs[0].shape[1:])
    if report["fixed_input"]:
        groups: dict[str, list[str]] = {}
        for layer, why in report["fixed_input"]:
            groups.setdefault(why, []).append(layer)
        ties = "; ".join(
            f"{why}: {names[0]}" + (f" ... {names[-1]} ({len(names)} layers)" if len(names) > 1
                                    else "")
            for why, names in groups.items()
        )
        lines.append(f"fixed input size: {size[0]}x{size[1]} (height x width; {shape} "
                     f"channels-last), tied by {ties}")
    else:
        lines.append(f"input shape: {shape} channels-last, as stored (no layer ties the model "
                     "to its size)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Convert a legacy Keras HDF5 model file into a Keras 3 ``.keras`` file."""
    parser = argparse.ArgumentParser(
        prog="python -m models.legacy",
        description="Convert a Keras 1.x/2.x HDF5 model file (e.g. the released SaltiNet "
        "pathnet_model_v2.h5, Keras 1.2.2 / Theano) into a channels-last Keras 3 .keras model.",
    )
    parser.add_argument("input", help="legacy HDF5 model file saved by Keras 1.x or 2.x")
    parser.add_argument("output", help="Keras 3 model to write; must end in .keras")
    parser.add_argument(
        "--backend", choices=BACKENDS, default=None,
        help="backend that saved the file (theano: kernels are flipped); default: the file's "
        "backend attribute, else theano when weight names lack TensorFlow's ':0' suffix",
    )
    parser.add_argument("--force", action="store_true", help="overwrite OUTPUT if it exists")
    args = parser.parse_args(argv)
    out = Path(args.output)
    if out.suffix != ".keras":
        raise InputError(f"{out}: the output must be a .keras file")
    check_writable(out, args.force)
    model, report = convert_legacy(args.input, backend=args.backend)
    with atomic_path(out, args.force) as tmp:
        model.save(tmp)
    print(describe(model, report))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
