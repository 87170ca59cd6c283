"""The PEFT adapter layout: the two files, the config's settings, the weight keys, module names.

An adapter is ``adapter_config.json`` (``peft_type``, ``r``, ``lora_alpha``, ``use_rslora``,
``rank_pattern``, ``alpha_pattern``, ``target_modules``) and ``adapter_model.safetensors`` with keys
``base_model.model.<module>.lora_A[.<adapter name>].weight``. Only safetensors are read, never
pickles (``.bin`` files are named in the message, not opened). A module name says its layer (the
first number in it) and its kind (the last part: ``q_proj``, ``query``, ``c_attn``, ...).
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

from safetensors import safe_open
from safetensors.torch import load as load_safetensors

from la_core.checks import as_int, as_positive_float

__all__ = ["CONFIG_NAME", "WEIGHTS_NAME", "KEY", "PREFIX", "KINDS", "fail", "layer_of_name", "kind_of_name",
           "module_order", "read_files", "settings", "header"]

CONFIG_NAME = "adapter_config.json"
WEIGHTS_NAME = "adapter_model.safetensors"
KEY = re.compile(r"^(?P<module>.+)\.lora_(?P<ab>[AB])(?:\.(?P<name>[^.]+))?\.weight$")
PREFIX = "base_model.model."
ACCEPTED = (f"a PEFT LoRA adapter: a folder (or the two files as bytes) with {CONFIG_NAME} "
             f"(peft_type 'LORA', r, lora_alpha) and {WEIGHTS_NAME} holding "
             "base_model.model.<module>.lora_A.weight (r × in) and .lora_B.weight (out × r)")
# Last name part -> kind of layer (lower case). "dense", "c_proj" depend on the parent: see kind_of.
KINDS = {
    "q": ("q_proj", "query", "q", "wq", "q_lin", "to_q"),
    "k": ("k_proj", "key", "k", "wk", "k_lin", "to_k"),
    "v": ("v_proj", "value", "v", "wv", "v_lin", "to_v"),
    "qkv": ("c_attn", "qkv_proj", "query_key_value", "wqkv", "qkv", "in_proj"),
    "o": ("o_proj", "out_proj", "wo", "out_lin", "to_out"),
    "MLP gate": ("gate_proj", "w1"),
    "MLP up": ("up_proj", "fc1", "c_fc", "w3", "dense_h_to_4h", "lin1", "fc_in"),
    "MLP down": ("down_proj", "fc2", "w2", "dense_4h_to_h", "lin2", "fc_out"),
    "MLP gate+up": ("gate_up_proj",),
}
KIND_OF = {name: kind for kind, names in KINDS.items() for name in names}


def fail(what: str) -> ValueError:
    return ValueError(f"{what}. Accepted: {ACCEPTED}.")


def _module_name(module) -> str:
    if not isinstance(module, str) or not module:
        raise ValueError(f"a module name must be a non-empty string such as 'model.layers.3.self_attn.q_proj'; "
                         f"got {module!r}.")
    return module


def layer_of_name(module: str) -> int | None:
    """The layer a module name says (its first number), or None."""
    parts = [p for p in _module_name(module).split(".") if p.isdigit()]
    return int(parts[0]) if parts else None


def kind_of_name(module: str) -> str:
    """q, k, v, qkv, o, MLP gate/up/down, MLP gate+up or other, from the name's last parts."""
    *parents, last = _module_name(module).lower().split(".")
    if last in KIND_OF:
        return KIND_OF[last]
    if last in ("dense", "c_proj", "proj", "out"):
        if any("attn" in p or "attention" in p for p in parents):
            return "o"
        if parents and parents[-1] == "intermediate":
            return "MLP up"
        if parents and parents[-1] in ("output", "mlp", "ffn", "feed_forward"):
            return "MLP down"
    return "other"


def module_order(module: str):
    """Sort key: layer, then q k v o gate up down, then the name with numbers compared as numbers."""
    kinds = list(KINDS) + ["other"]
    natural = [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"(\d+)", _module_name(module))]
    layer = layer_of_name(module)
    return (layer is not None, -1 if layer is None else layer, kinds.index(kind_of_name(module)), natural)


def read_files(path_or_files) -> tuple[dict, bytes | Path]:
    """The parsed config and the weights (bytes, or the safetensors path of a folder)."""
    if isinstance(path_or_files, dict):
        files = {}
        for name, data in path_or_files.items():
            data = data.getvalue() if hasattr(data, "getvalue") else data    # an uploaded file object
            if not isinstance(name, str) or not isinstance(data, (bytes, bytearray, memoryview)):
                raise fail(f"files must map file names to bytes; got {name!r}: {type(data).__name__}")
            files[os.path.basename(name)] = bytes(data)
        present, cfg, weights = sorted(files), files.get(CONFIG_NAME), files.get(WEIGHTS_NAME)
    elif isinstance(path_or_files, (str, os.PathLike)):
        folder = Path(path_or_files)
        try:
            folder = folder.parent if folder.is_file() and folder.name in (CONFIG_NAME, WEIGHTS_NAME) else folder
            present = sorted(p.name for p in folder.iterdir())
        except (OSError, ValueError):
            raise fail(f"{str(path_or_files)!r} is not a folder") from None
        try:
            cfg = (folder / CONFIG_NAME).read_bytes() if CONFIG_NAME in present else None
        except OSError as exc:
            raise fail(f"{CONFIG_NAME} cannot be read ({exc})") from None
        weights = folder / WEIGHTS_NAME if WEIGHTS_NAME in present else None
    else:
        raise fail(f"path_or_files must be a folder path or a dict of file bytes; got {type(path_or_files).__name__}")
    if weights is None:
        pickled = [p for p in present if p.endswith((".bin", ".pt", ".pth", ".ckpt"))]
        raise fail(f"no {WEIGHTS_NAME} among {present[:8]}" + (
            f"; {pickled[0]} is a pickle, never opened (save with safe_serialization=True)" if pickled else ""))
    if cfg is None:
        raise fail(f"no {CONFIG_NAME} among {present[:8]} (it holds r and lora_alpha, needed for the scale)")
    try:
        cfg = json.loads(cfg)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise fail(f"{CONFIG_NAME} is not valid JSON ({exc})") from None
    if not isinstance(cfg, dict):
        raise fail(f"{CONFIG_NAME} must hold a JSON object; got {type(cfg).__name__}")
    return cfg, weights


def settings(cfg: dict) -> dict:
    """r, alpha, use_rslora and the two patterns from the config, checked."""
    if not isinstance(cfg, dict):
        raise fail(f"the adapter config must be a JSON object; got {type(cfg).__name__}")
    if str(cfg.get("peft_type", "LORA")).upper() != "LORA":
        raise fail(f"peft_type is {cfg['peft_type']!r}, not a LoRA adapter")
    if cfg.get("use_dora"):
        raise fail("this is a DoRA adapter (use_dora): its update is not scale · B A")
    missing = [k for k in ("r", "lora_alpha") if k not in cfg]
    if missing:
        raise fail(f"{CONFIG_NAME} has no {missing[0]!r}")
    out = {"r": as_int(cfg["r"], "r", 1), "alpha": as_positive_float(cfg["lora_alpha"], "lora_alpha"),
           "use_rslora": bool(cfg.get("use_rslora", False))}
    for name, check in (("rank_pattern", lambda v, n: as_int(v, n, 1)), ("alpha_pattern", as_positive_float)):
        pat = cfg.get(name) or {}
        if not isinstance(pat, dict):
            raise fail(f"{name} must map module patterns to values; got {pat!r}")
        for key in pat:
            try:
                re.compile(key)
            except re.error as exc:
                raise fail(f"{name} key {key!r} is not a valid regular expression ({exc})") from None
        out[name] = {key: check(v, f"{name}[{key!r}]") for key, v in pat.items()}
    return out


def header(weights: bytes | Path) -> tuple[dict, dict]:
    """Shapes by key, and the tensors for bytes input (a folder's data is not read here)."""
    try:
        if isinstance(weights, bytes):
            tensors = load_safetensors(weights)
            return {k: tuple(t.shape) for k, t in tensors.items()}, tensors
        with safe_open(str(weights), framework="pt") as f:
            return {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}, {}
    except Exception as exc:   # safetensors has its own error types for a bad header
        raise fail(f"{WEIGHTS_NAME} is not a readable safetensors file ({type(exc).__name__}: {exc})") from None


