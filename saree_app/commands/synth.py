"""`saree synth`: render training data sets, a contact sheet, sample photos, one photo."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `saree synth dataset|sheet|samples|garments|one`."""
    p = sub.add_parser(
        "synth",
        help="render procedural saree photos (training data, contact sheet, samples)",
        description="The procedural saree renderer: labelled photos with part masks.",
    )
    s = p.add_subparsers(dest="synth_command", metavar="WHAT")

    d = s.add_parser("dataset", help="write a labelled data set (images, masks, labels.jsonl)")
    d.add_argument("--out", required=True, type=Path, help="output folder")
    d.add_argument("--per-class", type=int, default=200, help="photos per tradition")
    d.add_argument("--size", type=int, default=320, help="longer image side in pixels")
    d.add_argument(
        "--traditions", default=None, help="comma-separated tradition ids (default: all rendered)"
    )
    d.add_argument(
        "--heldout",
        "--split-families",
        dest="heldout",
        action="append",
        default=[],
        metavar="KIND=NAME[,KIND=NAME...]",
        help="families held out into split 'heldout', e.g. view=draped,background=wood",
    )
    d.add_argument("--workers", type=int, default=2, help="processes (default 2)")
    d.add_argument("--seed", type=int, default=0, help="data set seed")
    d.add_argument(
        "--worn",
        type=float,
        default=0.0,
        metavar="SHARE",
        help="share of photos shown worn by a figure at any scale, the pallu hanging, held out "
        "or down the front (the view 'worn'; default 0: the views drawn from each seed)",
    )
    d.set_defaults(func=_dataset)

    sh = s.add_parser("sheet", help="contact sheet: a row per tradition, a column per view")
    sh.add_argument("--out", required=True, type=Path, help="PNG or JPEG file")
    sh.add_argument("--cell", type=int, default=200, help="cell size in pixels")
    sh.add_argument("--seed", type=int, default=0)
    sh.set_defaults(func=_sheet)

    sa = s.add_parser("samples", help="sample photos for the app's sample collection")
    sa.add_argument("--out", required=True, type=Path, help="output folder")
    sa.add_argument("--count", type=int, default=16, help="photos (default: one per tradition)")
    sa.add_argument("--size", type=int, default=640)
    sa.add_argument("--seed", type=int, default=0)
    sa.set_defaults(func=_samples)

    g = s.add_parser(
        "garments",
        help="photos of other garments (shirts, kurtas, blouses, skirts, trousers, dupattas): "
        "not sarees, to measure with saree bench openset --non-saree DIR",
    )
    g.add_argument("--out", required=True, type=Path, help="output folder")
    g.add_argument("--count", type=int, default=60, help="photos (default 60)")
    g.add_argument("--size", type=int, default=384, help="longer image side in pixels")
    g.add_argument("--seed", type=int, default=9_500_000, help="first photo's seed")
    g.set_defaults(func=_garments)

    o = s.add_parser("one", help="render one photo (and its mask) for a look")
    o.add_argument("tradition")
    o.add_argument("--seed", type=int, default=0)
    o.add_argument("--size", type=int, default=640)
    o.add_argument("--view", default=None)
    o.add_argument("--background", default=None)
    o.add_argument("--lighting", default=None)
    o.add_argument("--camera", default=None)
    o.add_argument("--out", required=True, type=Path, help="JPEG file; the mask goes beside it")
    o.set_defaults(func=_one)

    def _help(_args: argparse.Namespace) -> int:
        p.print_help()
        return 2

    p.set_defaults(func=_help)


def _fail(msg: str) -> int:
    print(f"saree synth: {msg}", file=sys.stderr)
    return 2


def _why(exc: OSError) -> str:
    """Why a file or folder cannot be written, in plain words (no errno, no repr)."""
    if isinstance(exc, FileExistsError | NotADirectoryError):
        where = f" ({exc.filename})" if exc.filename else ""
        return f"a file is in the way where a folder is needed{where}"
    return str(exc.strerror or exc)


_PICTURE_SUFFIXES = (".png", ".jpg", ".jpeg")


def _picture_out_problem(out: Path) -> str | None:
    """Why a picture cannot be written to `out`, or None: checked before anything is drawn."""
    from saree_app.commands.collection import _output_problem

    if out.is_dir():
        return f"--out {out}: this is a folder; give a file name ending in .png or .jpg"
    if out.suffix.lower() not in _PICTURE_SUFFIXES:
        return f"--out must end in .png, .jpg or .jpeg, not {out.name!r}"
    problem = _output_problem(out, text=False)
    return f"--out {problem}" if problem else None


def _dataset(args: argparse.Namespace) -> int:
    from saree_app.synth import SynthError
    from saree_app.synth.dataset import parse_heldout, write_dataset

    try:
        heldout = parse_heldout(args.heldout)
        traditions = (
            [t.strip() for t in args.traditions.split(",") if t.strip()]
            if args.traditions
            else None
        )

        def progress(done: int, total: int) -> None:
            if done == total or done % 100 == 0:
                print(f"\r{done}/{total} photos", end="", file=sys.stderr, flush=True)

        root = write_dataset(
            args.out,
            args.per_class,
            args.size,
            traditions,
            heldout,
            workers=args.workers,
            progress=progress,
            seed=args.seed,
            worn=args.worn,
        )
    except SynthError as e:
        return _fail(str(e))
    except OSError as e:
        return _fail(f"cannot write to {args.out}: {_why(e)}")
    print(file=sys.stderr)
    print(f"wrote {root / 'labels.jsonl'}")
    return 0


def _sheet(args: argparse.Namespace) -> int:
    from saree_app.synth import SynthError
    from saree_app.synth.dataset import contact_sheet

    if not 48 <= args.cell <= 1024:
        return _fail("--cell must be from 48 to 1024 pixels")
    problem = _picture_out_problem(args.out)
    if problem is not None:
        return _fail(problem)
    try:
        sheet = contact_sheet(cell=args.cell, seed=args.seed)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        sheet.save(args.out)
    except SynthError as e:
        return _fail(str(e))
    except OSError as e:
        return _fail(f"cannot write {args.out}: {_why(e)}")
    except ValueError as e:
        return _fail(f"cannot write {args.out}: {e}")
    print(f"wrote {args.out} ({sheet.width} x {sheet.height})")
    return 0


def _samples(args: argparse.Namespace) -> int:
    from saree_app.synth import SynthError
    from saree_app.synth.dataset import write_samples

    if args.count < 1:
        return _fail("--count must be at least 1")
    try:
        paths = write_samples(args.out, args.count, args.size, args.seed)
    except SynthError as e:
        return _fail(str(e))
    except OSError as e:
        return _fail(f"cannot write to {args.out}: {_why(e)}")
    print(f"wrote {len(paths)} photos to {args.out}")
    return 0


def _garments(args: argparse.Namespace) -> int:
    from saree_app.synth import SynthError
    from saree_app.synth.garments import render_garment

    if args.count < 1:
        return _fail("--count must be at least 1")
    if not 32 <= args.size <= 4096:  # a larger one would fill the memory before it is drawn
        return _fail(f"size must be at least 32 pixels and at most 4096, not {args.size}")
    if args.seed < 0:
        return _fail("--seed must not be negative")
    if args.out.exists() and not args.out.is_dir():
        return _fail(f"--out {args.out} is a file, not a folder")
    try:
        args.out.mkdir(parents=True, exist_ok=True)
        for k in range(args.count):
            seed = args.seed + k
            render_garment(seed, args.size).save(args.out / f"garment-{seed}.jpg", quality=92)
    except SynthError as e:
        return _fail(str(e))
    except OSError as e:
        return _fail(f"cannot write to {args.out}: {_why(e)}")
    print(f"wrote {args.count} photos of other garments to {args.out}")
    return 0


def _one(args: argparse.Namespace) -> int:
    from PIL import Image

    from saree_app.synth import SynthError, render

    problem = _picture_out_problem(args.out) or _picture_out_problem(
        args.out.with_suffix(".mask.png")
    )
    if problem is not None:
        return _fail(problem)
    try:
        img, mask, attrs, meta = render(
            args.tradition,
            args.seed,
            args.size,
            view=args.view,
            background=args.background,
            lighting=args.lighting,
            camera=args.camera,
        )
        args.out.parent.mkdir(parents=True, exist_ok=True)
        img.save(args.out, quality=92)
        mask_path = args.out.with_suffix(".mask.png")
        Image.fromarray(mask * 80).save(mask_path)
    except SynthError as e:
        return _fail(str(e))
    except OSError as e:
        return _fail(f"cannot write {args.out}: {_why(e)}")
    except ValueError as e:
        return _fail(f"cannot write {args.out}: {e}")
    print(f"wrote {args.out} and {mask_path} (mask scaled x80 for viewing)")
    print("families:", meta["families"])
    print("attributes:", ", ".join(attrs) or "(none visible)")
    return 0
