"""Import a folder into the catalogue: a resumable generator that yields progress."""
