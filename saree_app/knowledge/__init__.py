"""The textile knowledge graph and its fusion with visual evidence. rdflib + networkx, no Qt."""
