"""A run's training rows for the PyTorch trainer, normalised as vdm normalises them.

A data directory holds either what `vdm export --format pytorch` writes: x.npy (the RAW rows exactly as vdm
loaded them: float32 [N, dim] for point sets, uint8 [N, H, W, C] for images), labels.npy (int32 [N]) and
fourier.npy (float32 [dim, F], the MLP's Fourier frequencies, which checkpoints do not hold); or IDX files
(train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], as a cluster may hold Fashion-MNIST already),
read as src/data/idx.ts and src/data/images.ts read them.
"""
import math
import os
import zlib

import numpy as np
import torch

#: the most bytes a gzipped IDX file may inflate to (src/data/idx.ts maxIdxBytes)
MAX_IDX_BYTES = 2**30


def read_idx(path, max_bytes=MAX_IDX_BYTES):
    """An IDX file (gzipped or not, told by its first two bytes 1f 8b) as a uint8 array of the header's shape:
    two zero bytes, type 0x08 (unsigned bytes), n dimensions, n big-endian uint32 sizes, the values row-major
    (src/data/idx.ts parseIdx, with its checks and messages)."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            raw = inflate.decompress(raw, max_bytes + 1)
        except zlib.error as e:
            raise ValueError(f"{path}: corrupt gzip data ({e})") from None
        if len(raw) > max_bytes:
            raise ValueError(f"{path}: the gzip data inflate to more than {max_bytes} bytes")
        if not inflate.eof:
            raise ValueError(f"{path}: corrupt gzip data (unexpected end of file)")
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{path}: wrong magic number (not an IDX file)")
    if raw[2] != 0x08:
        raise ValueError(f"{path}: element type 0x{raw[2]:x} is not unsigned bytes (0x08)")
    ndim = raw[3]
    if ndim < 1:
        raise ValueError(f"{path}: the header declares 0 dimensions")
    start = 4 + 4 * ndim
    if len(raw) < start:
        raise ValueError(f"{path}: truncated header ({ndim} dimensions)")
    shape = [int(s) for s in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4)]
    count = math.prod(shape)
    if len(raw) - start != count:
        truncated = " (truncated)" if len(raw) - start < count else ""
        raise ValueError(f"{path}: {len(raw) - start} data bytes, but the header's shape [{', '.join(map(str, shape))}] needs {count}{truncated}")
    return np.frombuffer(raw, dtype=np.uint8, offset=start).reshape(shape)


def idx_file(data_dir, name):
    """data_dir/name or data_dir/name.gz (the first present), else None."""
    for path in (os.path.join(data_dir, name), os.path.join(data_dir, name + ".gz")):
        if os.path.exists(path):
            return path
    return None


def read_idx_pair(data_dir, prefix="train"):
    """(images uint8 [n, rows, cols], labels uint8 [n]) of {prefix}-images-idx3-ubyte[.gz] and
    {prefix}-labels-idx1-ubyte[.gz] (src/data/idx.ts readIdxPair)."""
    paths = {}
    for kind in ("images-idx3-ubyte", "labels-idx1-ubyte"):
        paths[kind] = idx_file(data_dir, f"{prefix}-{kind}")
        if paths[kind] is None:
            raise ValueError(f"no {prefix}-{kind}[.gz] in {data_dir}{'' if os.path.isdir(data_dir) else ' (no such directory)'}")
    images, labels = read_idx(paths["images-idx3-ubyte"]), read_idx(paths["labels-idx1-ubyte"])
    if images.ndim != 3:
        raise ValueError(f"{paths['images-idx3-ubyte']}: expected [n, rows, cols], got {list(images.shape)}")
    if 0 in images.shape:
        raise ValueError(f"{paths['images-idx3-ubyte']}: no pixels in images of shape {list(images.shape)}")
    if labels.ndim != 1 or labels.shape[0] != images.shape[0]:
        got = f"{labels.shape[0]} labels for {images.shape[0]} images" if labels.ndim == 1 else f"expected [n] labels, got {list(labels.shape)}"
        raise ValueError(f"{paths['labels-idx1-ubyte']}: {got}")
    return images, labels


def example_shape(config):
    """One example's shape: data.shape (images: [rows, cols, channels]) or [data.dim]."""
    return list(config["data"].get("shape") or [config["data"]["dim"]])


def normalise(raw, mean, std):
    """x' = (x − mean)/std per element, entry i mod M of the M = len(mean) entries for the i-th value of a
    row-major example (one per dimension, or per channel of NHWC images), computed in float64 and rounded to
    float32 as src/data/normalize.ts `normalize` does (JavaScript numbers into a Float32Array)."""
    n = raw.shape[0]
    flat = raw.reshape(n, -1).astype(np.float64)
    reps = flat.shape[1] // len(mean)
    out = (flat - np.tile(np.asarray(mean, np.float64), reps)) / np.tile(np.asarray(std, np.float64), reps)
    return out.astype(np.float32).reshape(raw.shape)


def classes_of(config):
    """The conditional denoiser's number of classes (0: unconditional)."""
    return config["model"].get(config["model"]["kind"], {}).get("classes") or 0


def training_data(config, data_dir):
    """(x, labels): x float32 [N, *example shape] normalised with config.json's data.mean/data.std; labels int64
    [N] for a conditional model (0 ≤ y < classes, as src/train/step.ts requires), else None. From x.npy
    (+ labels.npy) when data_dir holds it, else from its IDX pair: the first data.train images (0 = all)
    as [N, rows, cols, 1], as vdm reads an image set (src/data/images.ts readImages)."""
    x_path = os.path.join(data_dir, "x.npy")
    if os.path.exists(x_path):
        raw = np.load(x_path)
        labels_path = os.path.join(data_dir, "labels.npy")
        labels = np.load(labels_path) if os.path.exists(labels_path) else None
    elif idx_file(data_dir, "train-images-idx3-ubyte"):
        images, labels = read_idx_pair(data_dir)
        n = config["data"].get("train") or images.shape[0]
        raw, labels = images[:n, :, :, None], labels[:n]
    else:
        raise ValueError(f"{data_dir} holds neither x.npy (vdm export's training rows) nor train-images-idx3-ubyte[.gz] (IDX files)")
    shape, dim = example_shape(config), config["data"]["dim"]
    if raw.ndim < 2 or math.prod(raw.shape[1:]) != dim:
        raise ValueError(f"{data_dir}: rows of shape {list(raw.shape[1:])}, but the run's data have {dim} values per example ({shape})")
    x = torch.from_numpy(normalise(raw, config["data"]["mean"], config["data"]["std"]).reshape(raw.shape[0], *shape))
    classes = classes_of(config)
    if not classes:
        return x, None
    if labels is None:
        raise ValueError(f"the model is conditional ({classes} classes), but {data_dir} holds no labels (labels.npy)")
    labels = torch.from_numpy(np.asarray(labels).astype(np.int64))
    if labels.shape != (x.shape[0],):
        raise ValueError(f"{data_dir}: {list(labels.shape)} labels for {x.shape[0]} rows")
    if labels.numel() and (labels.min() < 0 or labels.max() >= classes):
        raise ValueError(f"labels must lie in 0..{classes - 1}")
    return x, labels


def fourier_frequencies(config, data_dir):
    """The MLP's Fourier frequencies [dim, F] from fourier.npy, or None when it has none (vdm draws them from
    Rng(fourierSeed) and keeps them out of checkpoints: `vdm export --format pytorch` writes them)."""
    mlp = config["model"].get("mlp") if config["model"]["kind"] == "mlp" else None
    F = (mlp or {}).get("fourierFeatures", 0)
    if not F:
        return None
    path = os.path.join(data_dir, "fourier.npy")
    if not os.path.exists(path):
        raise ValueError(f"the MLP has {F} Fourier features, whose frequencies checkpoints do not hold: {path} (written by vdm export --format pytorch) is missing")
    frequencies = torch.from_numpy(np.load(path).astype(np.float32))
    if tuple(frequencies.shape) != (mlp["dim"], F):
        raise ValueError(f"{path}: shape {list(frequencies.shape)}, expected [{mlp['dim']}, {F}]")
    return frequencies
