"""The ONNX side of the app: manifest, session, prediction. No torch, no Qt."""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from saree_app.model.predict import Prediction, Predictor

__all__ = ["Prediction", "Predictor"]


def __getattr__(name: str) -> Any:
    """`saree_app.model.Predictor` as README shows it, imported when first asked for (the
    predictor pulls in onnxruntime, which `saree --help` should not pay for)."""
    if name in __all__:
        from saree_app.model import predict

        return getattr(predict, name)
    raise AttributeError(f"module 'saree_app.model' has no attribute {name!r}")
