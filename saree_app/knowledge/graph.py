"""TextileGraph: load ontology/*.ttl, validate, query, region hierarchy."""
