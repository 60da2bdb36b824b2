"""Predictor: photo -> Prediction (fused ranking, masks, heatmaps, attributes, embeddings)."""
