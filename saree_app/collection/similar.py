"""Similar-saree search over whole-saree or part embeddings."""
