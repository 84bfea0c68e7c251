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
"""


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    return cli_main(argv, head="map", description=DESCRIPTION)


if __name__ == "__main__":
    sys.exit(run_cli(main))
