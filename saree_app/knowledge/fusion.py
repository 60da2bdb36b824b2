"""Visual scores + attribute evidence + curator metadata -> fused ranking with explanation."""
