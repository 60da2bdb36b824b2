"""Training, evaluation and ONNX export of PartAwareNet (train extra: torch)."""
