"""The curator's catalogue in one sqlite file: photos, predictions, embeddings, labels, notes."""
