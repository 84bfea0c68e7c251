"""The SaltiNet network, its custom layers, training and legacy weight loading."""
