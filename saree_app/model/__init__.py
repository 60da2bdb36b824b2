"""The ONNX side of the app: manifest, session, prediction. No torch, no Qt."""
