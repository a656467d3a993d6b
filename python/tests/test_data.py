"""vdm_torch.data: the training rows the trainer sees are vdm's (src/data/normalize.ts, via python/tests/rows.mjs),
bit for bit, from x.npy or from a directory of IDX files read as src/data/idx.ts reads them."""
import gzip
import json
import os
import shutil
import tempfile
import unittest

import numpy as np

from helpers import ROOT, vdm_run
from vdm_torch.data import read_idx, read_idx_pair, training_data

FASHION = os.path.join(ROOT, "data", "fashion-mnist")


def config_of(run):
    with open(os.path.join(run, "config.json")) as f:
        return json.load(f)


class Data(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="vdm-torch-data-")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def test_points_as_vdm_normalises_them(self):
        run = os.path.join(self.tmp, "moons")
        data = vdm_run(run, "--data", "moons", "--steps", "1", "--batch", "8")
        x, labels = training_data(config_of(run), data)
        vdm_rows = np.load(os.path.join(data, "normalised.npy"))
        self.assertEqual((x.shape, labels), ((20000, 2), None))  # moons' component labels: the model is unconditional
        np.testing.assert_array_equal(x.numpy(), vdm_rows)

    def test_images_from_x_npy_and_from_idx_files(self):
        """A conditional U-Net run on the bundled Fashion-MNIST subset: pixel p becomes (p − 127.5)/127.5."""
        run = os.path.join(self.tmp, "fashion")
        # the bundled subset (FASHION), whether or not Debian's full set is installed
        flags = ["--data", "fashion-mnist", "--data-dir", FASHION, "--steps", "1", "--batch", "2", "--base", "8", "--multipliers", "1", "--conditional"]
        data = vdm_run(run, *flags)
        config = config_of(run)
        x, labels = training_data(config, data)
        vdm_rows = np.load(os.path.join(data, "normalised.npy"))
        self.assertEqual(tuple(x.shape), (2000, 28, 28, 1))
        np.testing.assert_array_equal(x.numpy(), vdm_rows)
        np.testing.assert_array_equal(labels.numpy(), np.load(os.path.join(data, "labels.npy")))
        from_idx, idx_labels = training_data(config, FASHION)
        np.testing.assert_array_equal(from_idx.numpy(), vdm_rows)
        np.testing.assert_array_equal(idx_labels.numpy(), labels.numpy())
        config["data"]["train"] = 100  # the first data.train images, as vdm reads them
        self.assertEqual(tuple(training_data(config, FASHION)[0].shape), (100, 28, 28, 1))

    def test_idx_files(self):
        images, labels = read_idx_pair(FASHION)
        self.assertEqual((images.shape, labels.shape, images.dtype), ((2000, 28, 28), (2000,), np.uint8))
        self.assertEqual(read_idx_pair(FASHION, "t10k")[0].shape, (500, 28, 28))
        self.assertEqual(sorted(set(labels.tolist())), list(range(10)))
        plain = os.path.join(self.tmp, "plain")
        with gzip.open(os.path.join(FASHION, "train-labels-idx1-ubyte.gz")) as f:
            raw = f.read()
        with open(plain, "wb") as f:
            f.write(raw)
        np.testing.assert_array_equal(read_idx(plain), labels)  # gzipped or not, told by the first bytes
        for name, content, message in [
            ("magic", b"\x01\x00\x08\x01", "wrong magic number (not an IDX file)"),
            ("type", b"\x00\x00\x0d\x01", "element type 0xd is not unsigned bytes (0x08)"),
            ("header", b"\x00\x00\x08\x02\x00\x00", "truncated header (2 dimensions)"),
            ("short", raw[:-1], "1999 data bytes, but the header's shape [2000] needs 2000 (truncated)"),
            ("gzip", b"\x1f\x8b\x08\x00garbage", "corrupt gzip data"),
        ]:
            path = os.path.join(self.tmp, name)
            with open(path, "wb") as f:
                f.write(content)
            with self.assertRaises(ValueError) as e:
                read_idx(path)
            self.assertIn(f"{path}: {message}", str(e.exception))
        with self.assertRaises(ValueError) as e:
            read_idx_pair(self.tmp)
        self.assertIn(f"no train-images-idx3-ubyte[.gz] in {self.tmp}", str(e.exception))


if __name__ == "__main__":
    unittest.main()
