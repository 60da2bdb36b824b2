"""One onnxruntime session per model, checksum and output contract verified."""
