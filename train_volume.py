"""Train the 12-output saliency-volume model (SaltiNet).

Two uses, both through models/training.py:
- pre-training on iSUN saliency volumes, from the map model's trunk:
      python train_volume.py --data packs/isun --init weights/map.best.weights.h5
- fine-tuning on Salient360! (36 training / 4 validation images):
      python train_volume.py --data packs/salient360 --init weights/volume.best.weights.h5 \
          --name volume_s360
"""

from __future__ import annotations

import sys

from data_prep.errors import run_cli
from models.training import cli_main

DESCRIPTION = """\
Train the saliency-VOLUME model (12 temporal slices, sigmoid, 300x600 in the paper) on the
`volume` target of HDF5 packs written by data_prep.make_dataset: iSUN volumes (pre-training;
the paper initialises it from the map model, so pass --init <map checkpoint> to copy
conv1-conv8) or Salient360! volumes (fine-tuning on 36 images, 4 held out for validation).
"""


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    return cli_main(argv, head="volume", description=DESCRIPTION)


if __name__ == "__main__":
    sys.exit(run_cli(main))
