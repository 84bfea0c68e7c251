"""Train the 1-output saliency-map model (SaltiNet's sibling; the paper's Table 3 model).

Two uses, both through models/training.py:
- pre-training on SALICON maps:   python train_map.py --data packs/salicon
- fine-tuning on the Salient360! head+eye maps (36 training / 4 validation images):
      python train_map.py --data packs/salient360 --init weights/map.best.weights.h5 \
          --name map_s360
"""

from __future__ import annotations

import sys

from data_prep.errors import run_cli
from models.training import cli_main

DESCRIPTION = """\
Train the saliency-MAP model (1 output, sigmoid, 300x600 in the paper) on the `map` target of
HDF5 packs written by data_prep.make_dataset: SALICON maps (pre-training; the paper starts
from SalNet) or the Salient360! head+eye maps (fine-tuning, the paper's Table 3 model).

Paper settings (the defaults): binary cross-entropy averaged over all outputs, SGD, batch size
1, 90 epochs, learning rate 0.01, L2 weight decay, validation loss every epoch. Momentum (0.9)
and the decay value (5e-4, decoupled, kernels only) are not in the paper and are our choice.

Writes <out>/<name>.last.weights.h5, .best.weights.h5 (lowest validation loss), .history.csv,
.curve.png (learning curves, the paper's Figure 3) and .resume.h5 (for --resume).
Bad input (missing or mismatched pack, unusable checkpoint, NaN loss, existing outputs
without --force): one "error:" line and exit status 2."""


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    return cli_main(argv, head="map", description=DESCRIPTION)


if __name__ == "__main__":
    sys.exit(run_cli(main))
