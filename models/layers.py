"""Custom Keras layers of SaltiNet, built only on ``keras.ops`` so saved models load in safe mode."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="saltinet")
class LocalResponseNormalization(keras.layers.Layer):
    """Local response normalisation across channels (Caffe's ACROSS_CHANNELS convention).

    For channel ``c`` of a channels-last input ``a``::

        b_c = a_c / (k + alpha / size * sum_{c' in window(c)} a_{c'} ** 2) ** beta

    where ``window(c)`` holds the ``size`` channels centred on ``c`` (``c - size // 2`` to
    ``c + size // 2``), clipped at the first and last channel (zero padding). ``alpha`` is
    therefore the coefficient *over the whole window*, as in Caffe and the paper's SalNet
    (size 5, alpha 1e-4, beta 0.75, k 1); TensorFlow's ``tf.nn.local_response_normalization``
    would need ``alpha / size`` instead.

    Precision: the normalisation is computed in float32 whatever the layer's compute dtype
    (bfloat16 powers of sums of squares lose too much), and the result is cast back to the
    compute dtype, so the layer runs unchanged under the ``mixed_bfloat16`` policy.

    Example:
    ```python
    import numpy as np
    from models.layers import LocalResponseNormalization

    layer = LocalResponseNormalization(size=5, alpha=1e-4, beta=0.75, k=1.0)
    y = layer(np.ones((1, 4, 4, 8), "float32"))  # same shape as the input
    ```
    """

    def __init__(
        self,
        size: int = 5,
        alpha: float = 1e-4,
        beta: float = 0.75,
        k: float = 1.0,
        **kwargs,
    ) -> None:
        """Store the window size (odd, >= 1) and the coefficients."""
        super().__init__(**kwargs)
        if int(size) != size or size < 1 or size % 2 == 0:
            raise ValueError(f"LocalResponseNormalization: size must be an odd integer >= 1, got {size}")
        self.size = int(size)
        self.alpha = float(alpha)
        self.beta = float(beta)
        self.k = float(k)

    def call(self, inputs):
        """Normalise each channel by the sum of squares over its channel window."""
        x = ops.cast(inputs, "float32")
        half = self.size // 2
        channels = x.shape[-1]
        squares = ops.square(x)
        if half:
            pad = [[0, 0]] * (len(x.shape) - 1) + [[half, half]]
            padded = ops.pad(squares, pad)
            window_sum = padded[..., 0:channels]
            for offset in range(1, self.size):
                window_sum = window_sum + padded[..., offset : offset + channels]
        else:
            window_sum = squares
        scale = ops.power(self.k + (self.alpha / self.size) * window_sum, -self.beta)
        return ops.cast(x * scale, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        """The output has the input's shape."""
        return input_shape

    def get_config(self) -> dict:
        """Return the constructor arguments for serialisation."""
        config = super().get_config()
        config.update({"size": self.size, "alpha": self.alpha, "beta": self.beta, "k": self.k})
        return config
