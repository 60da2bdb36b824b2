"""ModelManifest: labels, attribute ids, preprocessing, output names and checksum."""
