"""A curator's corrected part map, put to use at once: the stored answer and part embeddings.

Correcting a photo's part map (the saree's region, its border, pallu and body) changes what
the model is shown and what its part evidence is pooled under (model/partmap.py). Saving one
here stores the map and, in the same transaction, the answer and the embeddings recomputed
under it, so the answer panel, the collection's filters and the similar-by-part search all
follow it. Reverting drops the map and stores the model's own answer and embeddings again.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from saree_app.collection.catalog import Catalog, CatalogError, PartCorrection

if TYPE_CHECKING:
    from saree_app.model.predict import Prediction, Predictor


def _photo_path(catalog: Catalog, photo_id: int) -> Path:
    photo = catalog.photo(photo_id)
    if photo is None:
        raise CatalogError(f"no photo with id {photo_id} in {catalog.path.name}")
    return Path(photo.path)


def predict(catalog: Catalog, predictor: Predictor, photo_id: int, **kwargs: Any) -> Prediction:
    """The photo's answer, under the curator's part map when there is one."""
    stored = catalog.part_map(photo_id)
    return predictor.predict(
        _photo_path(catalog, photo_id),
        part_map=stored.labels if stored is not None else None,
        **kwargs,
    )


def cloth_tile_size(predictor: Any) -> int | None:
    """The side a predictor's cloth-features model reads tiles at (None: it has none), kept
    beside the cloth features it describes (Catalog.cloth_tile_sizes)."""
    cloth = getattr(predictor, "cloth", None)
    size = getattr(cloth, "tile_size", None)
    return int(size) if size is not None else None


def store(
    catalog: Catalog, photo_id: int, sha: str, pred: Prediction, tile_size: int | None = None
) -> None:
    """A prediction's answer and embeddings stored for one photo and model (`tile_size`: see
    `cloth_tile_size`)."""
    ranking = pred.fused.ranking
    catalog.put_prediction(
        photo_id,
        sha,
        pred.to_dict(),
        top_tradition=str(ranking[0].tradition) if ranking else None,
        top_probability=float(ranking[0].probability) if ranking else None,
        uncertain=bool(pred.uncertain),
    )
    catalog.put_embeddings(
        photo_id,
        sha,
        np.asarray(pred.embedding, np.float32),
        np.asarray(pred.part_embeddings, np.float32),
        pred.cloth_embedding,
        cloth_tile_size=tile_size,
    )


def correct(
    catalog: Catalog,
    predictor: Predictor,
    photo_id: int,
    labels: np.ndarray,
    *,
    by: str | None = None,
) -> tuple[PartCorrection, Prediction]:
    """Store the curator's part map for a photo and what follows from it (answer, whole and
    part embeddings, cloth features), all or nothing. PartMapError for labels that are not a
    part map, PhotoError when the photo file cannot be read; nothing is stored then."""
    from saree_app.imaging import upright_size
    from saree_app.model import partmap

    path = _photo_path(catalog, photo_id)
    # Stored on the grid the photo's shape calls for (a long photo keeps its length), whatever
    # the grid it was drawn or read on.
    size = upright_size(path)
    fitted = partmap.fit(labels, partmap.grid_for(*size) if size is not None else None)
    pred = predictor.predict(path, part_map=fitted)
    sha = str(predictor.manifest.sha256)
    with catalog.transaction():
        saved = catalog.put_part_map(photo_id, fitted, by=by)
        store(catalog, photo_id, sha, pred, cloth_tile_size(predictor))
    return saved, pred


def revert(catalog: Catalog, predictor: Predictor, photo_id: int) -> Prediction | None:
    """Back to the model's own part map: the correction is dropped and the model's answer and
    embeddings stored again. None when the photo had no correction (nothing changes)."""
    if catalog.part_map(photo_id) is None:
        return None
    pred = predictor.predict(_photo_path(catalog, photo_id))
    sha = str(predictor.manifest.sha256)
    with catalog.transaction():
        catalog.remove_part_map(photo_id)
        store(catalog, photo_id, sha, pred, cloth_tile_size(predictor))
    return pred
