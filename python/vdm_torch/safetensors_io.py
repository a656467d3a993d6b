"""The safetensors files vdm writes (src/io/safetensors.ts), read and written with json, struct and torch only.

Layout: an 8-byte little-endian header length N, N bytes of JSON
{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}} (padded with spaces so
the data start at a multiple of 8), then the tensors' bytes in the order of the header.
Tensor names are vdm's dotted leaf paths (src/io/state.ts `namedLeaves`): "params.hidden.0.w",
"ema.time.2", "adam.m.output.b", plus "rng" (U32 [2]), "losses" and "loss_variances" (F32 [steps]).
"""
import json
import struct

import torch

#: torch.uint32 exists from PyTorch 2.3; older ones (Debian's 1.13) read U32 as int64
_U32 = getattr(torch, "uint32", None)
DTYPES = {"F32": torch.float32, "F64": torch.float64, "I32": torch.int32, "U32": _U32 or torch.int32}
NAMES = {torch.float32: "F32", torch.float64: "F64", torch.int32: "I32"}
if _U32 is not None:
    NAMES[_U32] = "U32"


def read_safetensors(path):
    """(tensors: {name: tensor}, metadata: {str: str}) of a safetensors file; tensors are fresh copies."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n].decode("utf-8"))
    metadata = header.pop("__metadata__", {})
    start = 8 + n
    tensors = {}
    for name, info in header.items():
        dtype = DTYPES.get(info["dtype"])
        if dtype is None:
            raise ValueError(f"{path}: tensor {name} has unsupported dtype {info['dtype']}")
        b, e = info["data_offsets"]
        chunk = bytearray(raw[start + b : start + e])  # a writable, aligned copy
        t = torch.frombuffer(chunk, dtype=dtype) if e > b else torch.empty(0, dtype=dtype)
        if info["dtype"] == "U32" and _U32 is None:
            t = t.to(torch.int64) & 0xFFFFFFFF
        tensors[name] = t.reshape(info["shape"]).clone()
    return tensors, metadata


def write_safetensors(path, tensors, metadata=None):
    """Write {name: tensor} (in the dict's order) and string metadata as vdm writes them. A value may be
    (tensor, "U32"): an integer tensor written as uint32 (the rng key where torch has no uint32)."""
    header = {"__metadata__": dict(metadata or {})}
    blobs, offset = [], 0
    for name, t in tensors.items():
        t, dtype = t if isinstance(t, tuple) else (t, None)
        t = t.detach().contiguous().cpu()
        if dtype == "U32" and t.dtype != _U32:
            t = (t.to(torch.int64) & 0xFFFFFFFF).to(torch.int64)
            t = torch.where(t >= 2**31, t - 2**32, t).to(torch.int32)  # the same 4 bytes
        elif t.dtype not in NAMES:
            raise ValueError(f"tensor {name}: unsupported dtype {t.dtype}")
        else:
            dtype = NAMES[t.dtype]
        data = t.view(torch.uint8).numpy().tobytes() if t.numel() else b""
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":"))
    text += " " * ((8 - (8 + len(text.encode("utf-8"))) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text.encode("utf-8"))))
        f.write(text.encode("utf-8"))
        for b in blobs:
            f.write(b)


def subtree(tensors, prefix):
    """{rest: tensor} for the names prefix.rest (e.g. prefix "ema" gives a module's state dict)."""
    p = prefix + "."
    return {k[len(p) :]: v for k, v in tensors.items() if k.startswith(p)}
