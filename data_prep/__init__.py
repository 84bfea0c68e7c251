"""Dataset readers and writers, saliency volumes and maps, the demo dataset, packing."""
