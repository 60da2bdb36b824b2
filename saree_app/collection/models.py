"""Which model explains a catalogue: the shipped one, or one retrained from its photos.

`saree train --catalog FILE` writes a new model (its own sha256) into `FILE-stem-model/`
beside the catalogue; the app's Model > Retrain from confirmed photos runs the same command
into a folder beside it named for the day (`FILE-stem-model-2026-12-07/`). A curator can
switch a catalogue to such a model and back; the choice is kept in a small JSON file beside
the catalogue (`collection.saree` -> `collection.saree.model.json`) together with every model
folder it has used, so the list of models to choose from is the shipped model, the retrained
ones found beside the catalogue (or in a `models` folder next to it) and the ones chosen
before. The shipped model is always in the list and is never written to.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from saree_app.collection import side_files
from saree_app.model.manifest import TRAINED_DIGITS, ModelError, ModelManifest, sha256_of


class ModelChoiceError(Exception):
    """A model that cannot be switched to, or a choice that cannot be kept, in one line.
    `cause`: what is wrong alone, for a caller that says its own remedy (the app, which
    opens the collection with the shipped model meanwhile); the message adds the command
    line's."""

    def __init__(self, message: str, cause: str | None = None) -> None:
        super().__init__(message)
        self.cause = cause or message


@dataclass(frozen=True)
class ModelChoice:
    """One model a catalogue can use, as the Model menu lists it."""

    path: Path  # its manifest (.json)
    name: str
    sha256: str
    shipped: bool
    summary: str  # "held-back accuracy 83% on 12 … · learnt from 36 confirmed photos · 5 Dec 2026"
    problem: str | None = None  # why it cannot be used (then it is listed, not chosen)

    @property
    def title(self) -> str:
        """How a curator knows it: "Shipped model" or "Retrained from collection"."""
        if self.shipped:
            return "Shipped model"
        return f"Retrained model ({self.name})" if self.name else "Retrained model"


def model_file(catalog_path: Path) -> Path:
    """The side file that remembers a catalogue's model."""
    return side_files.beside(catalog_path, side_files.MODEL)


def shipped_model() -> Path:
    """The shipped model's manifest."""
    from saree_app.model.predict import default_model_path

    return default_model_path()


def retrain_folder(catalog_path: Path) -> Path:
    """Where `saree train --catalog FILE` writes when --out is not given."""
    return catalog_path.with_name(catalog_path.stem + "-model")


# A dated retraining folder: `<catalogue stem>-model-2026-12-07`, `...-2026-12-07-2`.
_DATED = re.compile(r"-model-(\d{4})-(\d{2})-(\d{2})(?:-(\d+))?")


def dated_folders(catalog_path: Path) -> list[Path]:
    """The app's retraining folders beside the catalogue (Model > Retrain from confirmed
    photos), oldest first."""
    prefix = catalog_path.stem + "-model-"
    found: list[tuple[tuple[int, ...], Path]] = []
    with contextlib.suppress(OSError):
        for entry in catalog_path.parent.iterdir():
            # startswith, not glob: a catalogue named "Saris [2024]" is no pattern.
            if not entry.name.startswith(prefix) or not entry.is_dir():
                continue
            m = _DATED.fullmatch(entry.name[len(catalog_path.stem) :])
            if m is not None:
                key = tuple(int(g) for g in m.groups(default="1"))
                found.append((key, entry))
    return [path for _key, path in sorted(found)]


def retrain_finished(folder: Path, name: str = "saree-model") -> bool:
    """Whether a retraining folder holds a finished run: the command writes the report last."""
    return (folder / f"{name}.json").is_file() and (folder / "REPORT.md").is_file()


def retrain_target(catalog_path: Path, today: _dt.date) -> Path:
    """The folder a retraining started today writes into: an unfinished run's folder, so the
    command resumes it (its progress is kept under that folder's name), else one named for
    the date that holds no finished model."""
    unfinished = [f for f in dated_folders(catalog_path) if not retrain_finished(f)]
    if unfinished:
        return unfinished[-1]
    base = catalog_path.with_name(f"{catalog_path.stem}-model-{today.isoformat()}")
    folder, n = base, 1
    while folder.exists():
        n += 1
        folder = base.with_name(f"{base.name}-{n}")
    return folder


def retrain_checked(model: Path) -> bool:
    """Whether a retrained model was checked on confirmed photos held back from it (its
    manifest's evaluation.heldout): an unchecked one is offered, not recommended."""
    try:
        raw = ModelManifest.load(model).raw
    except ModelError:
        return False
    evaluation = raw.get("evaluation") if isinstance(raw.get("evaluation"), dict) else {}
    held = evaluation.get("heldout") if isinstance(evaluation, dict) else None
    return isinstance(held, dict) and isinstance(held.get("top1"), (int, float))


# Fewer confirmed photos held back than this, and the check of a retrained model is too small
# to trust: one photo more or less right moves it by a tenth or more.
TRUSTED_CHECK = 10


def retrain_heldout(model: Path) -> int:
    """How many confirmed photos were held back to check a retrained model (0: none, or its
    manifest cannot be read)."""
    try:
        raw = ModelManifest.load(model).raw
    except ModelError:
        return 0
    evaluation = raw.get("evaluation") if isinstance(raw.get("evaluation"), dict) else {}
    held = evaluation.get("heldout") if isinstance(evaluation, dict) else None
    if not isinstance(held, dict) or not isinstance(held.get("top1"), (int, float)):
        return 0
    with contextlib.suppress(TypeError, ValueError):
        return max(int(held.get("photos") or 0), 0)
    return 0


def model_traditions(model: Path) -> tuple[str, ...]:
    """The traditions a model can name (its manifest's labels, as term ids); () when its
    manifest cannot be read."""
    try:
        return ModelManifest.load(model).labels
    except ModelError:
        return ()


def trained_photo_count(manifest: ModelManifest) -> int | None:
    """How many photos a model learnt from, each counted once: not its turned or varied copies,
    nor the pieces a long photo is read in (the manifest's training.photos counts those rows).
    A retrained model: its run's report.json (the photos per tradition `saree train --catalog`
    reports), else its list of trained photos; the shipped one: its photos per tradition.
    None when the manifest says nothing of it."""
    training = manifest.raw.get("training")
    if not isinstance(training, dict):
        return None
    if training.get("catalogue"):
        per = _report_photos(manifest.path)
        if per:
            return sum(per.values())
        listed = training.get("trained_photos")
        if isinstance(listed, list) and listed:
            return len(listed)
    else:
        per_class = training.get("per_class_train")
        if isinstance(per_class, dict) and per_class:
            with contextlib.suppress(TypeError, ValueError):
                return sum(int(v) for v in per_class.values())
    photos = training.get("photos")
    if isinstance(photos, dict) and isinstance(photos.get("train"), int):
        return int(photos["train"])
    return None


def _report_section(model: Path) -> dict[str, Any]:
    """The `catalogue` section of a retraining's report.json beside its manifest ({}: none)."""
    with contextlib.suppress(OSError, UnicodeDecodeError, json.JSONDecodeError):
        report = json.loads((Path(model).parent / "report.json").read_text(encoding="utf-8"))
        if isinstance(report, dict) and isinstance(report.get("catalogue"), dict):
            return dict(report["catalogue"])
    return {}


def _report_photos(model: Path) -> dict[str, int]:
    """Tradition -> confirmed photos a retrained model learnt from, per its report.json."""
    photos = _report_section(model).get("photos")
    out: dict[str, int] = {}
    if isinstance(photos, dict):
        for t, v in photos.items():
            if isinstance(v, dict):
                with contextlib.suppress(TypeError, ValueError):
                    out[str(t)] = int(v.get("train", 0))
    return out


def _names(traditions: list[str]) -> str:
    """'A', 'A and B', 'A, B and C'."""
    if len(traditions) <= 1:
        return "".join(traditions)
    return f"{', '.join(traditions[:-1])} and {traditions[-1]}"


def share_words(right: int, total: int) -> str:
    """'2 of the 3' for a small count (a percentage of a handful reads as more than it is);
    '83% of the 120' for a large one."""
    if total < 20:
        return f"{right:,} of the {total:,}"
    return f"{right / total:.0%} of the {total:,}" if total else "none of the 0"


def retrain_result(
    model: Path,
    label: Callable[[str], str] | None = None,
    current: Path | None = None,
) -> list[str]:
    """What a finished retraining gives, in a curator's sentences: how it did on the confirmed
    photos held back from it (as a count when they are few, and that a check on fewer than
    TRUSTED_CHECK is too small to trust), what it learnt from, which traditions it knows and,
    when `current` (the manifest of the model in use) is given, how many of that model's
    traditions it cannot name, and whether its part map was retrained. Reads the manifest's
    evaluation and the run's report.json (REPORT.md holds the same figures as tables). `label`
    names a tradition from its id ("Kota Doria", not "KotaDoria")."""
    try:
        manifest = ModelManifest.load(model)
    except ModelError as exc:
        return [f"Its description cannot be read ({exc.message})."]
    raw = manifest.raw
    named = label or (lambda t: t)  # the tradition's name, as the app shows it
    evaluation = raw.get("evaluation") if isinstance(raw.get("evaluation"), dict) else {}
    held = evaluation.get("heldout") if isinstance(evaluation, dict) else None
    lines = []
    if isinstance(held, dict) and isinstance(held.get("top1"), (int, float)):
        n = int(held.get("photos") or 0)
        top1 = float(held["top1"])
        line = (
            f"It named the right tradition for {share_words(round(top1 * n), n)} confirmed "
            f"photo{'s' * (n != 1)} held back to check it (photos it never learnt from)"
        )
        balanced = held.get("balanced_accuracy")
        if n >= 20 and isinstance(balanced, (int, float)) and abs(float(balanced) - top1) >= 0.005:
            line += f"; counting each tradition equally, {float(balanced):.0%}"
        line += "."
        if n < TRUSTED_CHECK:
            line += (
                f" A check on {n:,} photo{'s' * (n != 1)} is too small to trust: one photo "
                "more or less right changes it a great deal. Confirm more photos of each "
                "tradition (one in four is held back) and retrain for a check worth trusting."
            )
        lines.append(line)
    else:
        lines.append(
            "It could not be checked: no tradition had enough confirmed photos to keep some "
            "aside. Confirm more photos of each tradition and retrain for a checked model."
        )
    section = _report_section(model)
    per = _report_photos(model)
    if per:
        total = sum(per.values())
        each = ", ".join(f"{named(t)} {n:,}" for t, n in sorted(per.items()))
        lines.append(
            f"It learnt from {total:,} confirmed photo{'s' * (total != 1)} of {len(per)} "
            f"traditions: {each}."
        )
    knows = sorted(manifest.labels, key=lambda t: named(t).casefold())
    if knows:
        line = (
            f"It knows only the {len(knows)} tradition{'s' * (len(knows) != 1)} you confirmed "
            f"photos of: {_names([named(t) for t in knows])}; it names every photo as one of "
            f"{'these' if len(knows) != 1 else 'this'}."
        )
        before = model_traditions(current) if current is not None else ()
        lacks = [t for t in before if t not in set(knows)]
        if lacks:
            shown = sorted((named(t) for t in lacks), key=str.casefold)
            listed = _names(shown) if len(shown) <= 4 else f"{', '.join(shown[:4])}…"
            line += (
                f" It does not know {len(lacks)} of the {len(before)} traditions of the model "
                f"you use now ({listed}): a saree of one of those would be named as one of "
                "its own."
            )
        lines.append(line)
    parts = section.get("part_maps")
    if isinstance(parts, dict) and parts.get("fine_tuned"):
        n = int(parts.get("trained_on") or 0)
        lines.append(f"Its part map was also retrained, on {n:,} photos whose parts you corrected.")
    elif isinstance(parts, dict) and parts:
        lines.append("Its part map (body, border, pallu) is the one it started from, unchanged.")
    return lines


def _read_side(catalog_path: Path, *, strict: bool = False) -> dict[str, Any]:
    """The side file's entries ({} when there is none). A damaged one: ModelChoiceError when
    `strict`, else {} (the choice forgotten: the shipped model)."""
    path = model_file(catalog_path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        if strict:
            cause = (
                f"{path.name} cannot be read ({exc.strerror or exc}), so which model this "
                "collection uses is not known"
            )
            raise ModelChoiceError(
                f"{cause}; make it readable, or choose the model again (saree model --use, "
                "or Model in the app)",
                cause,
            ) from exc
        return {}
    try:
        data = json.loads(raw.decode("utf-8"))
    except ValueError:  # not UTF-8 (UnicodeDecodeError), not JSON
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("model"), (str, type(None))):
        if strict:
            cause = f"{path.name} is damaged: which model this collection uses cannot be read"
            raise ModelChoiceError(
                f"{cause}, and the shipped model is not used in its place without asking. "
                "Choose the model again (saree model --use, or Model in the app), or move the "
                "file aside to use the shipped model",
                cause,
            )
        return {}
    return data


def _write_side(catalog_path: Path, data: dict[str, Any]) -> None:
    target = model_file(catalog_path)
    text = json.dumps(data, indent=1, ensure_ascii=False) + "\n"
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            Path(tmp).replace(target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise ModelChoiceError(
            f"{target.name}: the model choice cannot be saved ({exc.strerror or exc})"
        ) from exc


def _known(data: dict[str, Any]) -> list[str]:
    """The side file's model folders used before (what is not one is passed over)."""
    known = data.get("known")
    return [x for x in known if isinstance(x, str) and x] if isinstance(known, list) else []


def _resolve(catalog_path: Path, text: str) -> Path:
    p = Path(text)
    return p if p.is_absolute() else catalog_path.parent / p


def trained_photos(catalog_path: Path, model_sha256: str) -> frozenset[str]:
    """The photos (content sha256 prefixes, TRAINED_DIGITS long) the model `model_sha256` was
    trained on, when it is one of this catalogue's models (chosen or used before) and was
    retrained from a catalogue; empty otherwise (the shipped model learnt from renders only).

    Read from the manifests' JSON alone (no checksum of the .onnx: the sha256 the manifest
    records is what the catalogue's answers are stored under)."""
    data = _read_side(catalog_path)
    places = [data.get("model"), *_known(data)]
    for text in dict.fromkeys(p for p in places if isinstance(p, str) and p):
        path = _resolve(catalog_path, text)
        if path.suffix.lower() == ".onnx":
            path = path.with_suffix(".json")
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            continue
        if not isinstance(raw, dict) or str(raw.get("sha256", "")).lower() != model_sha256.lower():
            continue
        training = raw.get("training")
        listed = training.get("trained_photos") if isinstance(training, dict) else None
        if isinstance(listed, list):
            return frozenset(str(x)[:TRAINED_DIGITS] for x in listed if isinstance(x, str))
        return frozenset()
    return frozenset()


def chosen_model(catalog_path: Path, *, strict: bool = False) -> Path | None:
    """The model this catalogue was switched to (its manifest), or None: the shipped one.

    When the side file that keeps the choice is damaged (or cannot be read), `strict` raises
    ModelChoiceError saying so in one line: a command then refuses rather than answer with
    the shipped model unasked. Not strict, the choice is forgotten and None returned (the
    app opens the collection with the shipped model; choosing one writes the file afresh)."""
    chosen = _read_side(catalog_path, strict=strict).get("model")
    if not isinstance(chosen, str) or not chosen:
        return None
    return _resolve(catalog_path, chosen)


def remember_model(catalog_path: Path, model: Path | None) -> None:
    """Keep `model` (None: the shipped one) as this catalogue's model, and its folder in the
    list of places to look for models."""
    data = _read_side(catalog_path)
    known = [str(x) for x in _known(data)]
    if model is not None and _same(model, shipped_model()):
        model = None  # the shipped model stays "the shipped one", wherever it is installed
    if model is not None:
        model = Path(model).absolute()
        if model.suffix.lower() == ".onnx":
            model = model.with_suffix(".json")
        if str(model) not in known:
            known.append(str(model))
    data["model"] = None if model is None else str(model)
    data["known"] = known
    _write_side(catalog_path, data)


def _same(a: Path, b: Path) -> bool:
    def manifest(p: Path) -> Path:
        p = Path(p).absolute()
        return p.with_suffix(".json") if p.suffix.lower() == ".onnx" else p

    return manifest(a) == manifest(b)


def is_shipped(path: Path) -> bool:
    """Whether a model path is the shipped model's."""
    return _same(path, shipped_model())


def check_model(path: Path) -> ModelManifest:
    """The model's manifest when the model can be used: the manifest is a model's, its .onnx
    is there and is the file the manifest describes (by sha256). ModelChoiceError otherwise,
    in one line."""
    try:
        manifest = ModelManifest.load(path)
    except ModelError as exc:
        raise ModelChoiceError(f"{exc.file}: {exc.message}") from exc
    if not manifest.onnx_path.is_file():
        raise ModelChoiceError(
            f"{manifest.path}: its model file {manifest.onnx_path.name} is missing"
        )
    try:
        actual = sha256_of(manifest.onnx_path)
    except OSError as exc:
        raise ModelChoiceError(
            f"{manifest.onnx_path}: cannot be read ({exc.strerror or exc})"
        ) from exc
    if actual != manifest.sha256:
        raise ModelChoiceError(
            f"{manifest.path}: the model file {manifest.onnx_path.name} is not the one this "
            "description was written for (checksum mismatch); re-export them together"
        )
    return manifest


def _looks_like_model(path: Path) -> bool:
    """A manifest of a saree model (not a report, the cloth features or the person models)."""
    try:
        if path.stat().st_size > 50_000_000:
            return False
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    return isinstance(data, dict) and "labels" in data and "onnx" in data


def summary(manifest: ModelManifest) -> str:
    """The report line: held-back accuracy, photos used, date."""
    raw = manifest.raw
    training: dict[str, Any] = raw["training"] if isinstance(raw.get("training"), dict) else {}
    evaluation: dict[str, Any] = (
        raw["evaluation"] if isinstance(raw.get("evaluation"), dict) else {}
    )
    parts = []
    held = evaluation.get("heldout")
    if isinstance(held, dict) and isinstance(held.get("top1"), (int, float)):
        n = int(held.get("photos") or 0)
        acc = held.get("balanced_accuracy")
        acc = acc if isinstance(acc, (int, float)) else held["top1"]
        whose = "of your confirmed photos" if training.get("catalogue") else "rendered photos"
        if n < 20:
            # A handful: said as a count (a percentage of 3 photos reads as more than it is).
            right = round(float(held["top1"]) * n)
            parts.append(f"right on {right:,} of {n:,} {whose} held back")
        else:
            parts.append(f"held-back accuracy {float(acc):.0%} on {n:,} {whose}")
    elif training.get("catalogue"):
        parts.append("not checked on held-back photos (too few confirmed)")
    used = trained_photo_count(manifest)
    if used is not None:
        # Photos, each once (not the turned copies or a long photo's pieces trained on):
        # the number the retraining's own window and report give.
        whose = "confirmed photo" if training.get("catalogue") else "photo"
        parts.append(f"learnt from {used:,} {whose}{'s' * (used != 1)}")
    with contextlib.suppress(OSError):
        stamp = _dt.datetime.fromtimestamp(manifest.onnx_path.stat().st_mtime)
        parts.append(f"{stamp.day} {stamp:%b %Y}")
    return " · ".join(parts)


def choice_for(path: Path, *, shipped: bool = False) -> ModelChoice:
    """One model file as the list shows it (with its problem when it cannot be used)."""
    try:
        manifest = check_model(path)
    except ModelChoiceError as exc:
        return ModelChoice(path, path.stem, "", shipped, "", problem=str(exc))
    return ModelChoice(
        manifest.path,
        manifest.name,
        manifest.sha256,
        shipped,
        summary(manifest),
    )


def find_models(catalog_path: Path) -> list[ModelChoice]:
    """The shipped model first, then every retrained model found for this catalogue: in its
    `saree train --catalog` folder and the app's dated retraining folders, in a `models`
    folder beside it, and those chosen before.
    A model that cannot be used is listed with its problem."""
    out = [choice_for(shipped_model(), shipped=True)]
    seen = {shipped_model().absolute()}
    shas = {out[0].sha256} if out[0].sha256 else set()
    candidates: list[Path] = []
    folders = [retrain_folder(catalog_path), *dated_folders(catalog_path)]
    for folder in (*folders, catalog_path.parent / "models"):
        with contextlib.suppress(OSError):
            if folder.is_dir():
                candidates += sorted(folder.glob("*.json")) + sorted(folder.glob("*/*.json"))
    data = _read_side(catalog_path)
    candidates += [_resolve(catalog_path, x) for x in _known(data)]
    chosen = chosen_model(catalog_path)
    if chosen is not None:
        candidates.append(chosen)
    for path in candidates:
        key = path.absolute()
        if key in seen:
            continue
        seen.add(key)
        if path.exists() and not _looks_like_model(path):
            continue
        choice = choice_for(path)
        if choice.sha256 and choice.sha256 in shas:
            continue  # a copy of a model already listed
        shas.add(choice.sha256)
        out.append(choice)
    return out
