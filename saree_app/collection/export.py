"""Export the catalogue as CSV and JSON-LD; read curator labels back from CSV."""
