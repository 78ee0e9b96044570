"""``painflow atlas fetch``: download an atlas into the cache, for offline runs."""

from __future__ import annotations

import argparse
import http.client

from painflow.atlas.fetch import (
    CACHE_VARIABLE,
    SCHAEFER,
    SCHAEFER_NETWORKS,
    SCHAEFER_PARCELS,
    SPACES,
    fetch_schaefer,
    schaefer_version,
)


def add_atlas(subcommands) -> None:
    """Add ``painflow atlas`` and its ``fetch`` subcommand.

    Parameters
    ----------
    subcommands
        The ``painflow`` parser's subparsers.
    """
    parser = subcommands.add_parser(
        "atlas",
        help="fetch an atlas into the atlas cache",
        description="Atlases that painflow does not ship, kept in a cache folder.",
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    fetch = actions.add_parser(
        "fetch",
        help="download an atlas with pinned checksums",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description="Download an atlas from its official source into the atlas "
        "cache, checking each file against its pinned checksum, so that "
        "config atlas.name (e.g. Schaefer2018_500Parcels7Networks, with image "
        "and labels null) works offline. Files already in the cache with "
        "their checksum are not downloaded again.",
    )
    fetch.add_argument("atlas", choices=[SCHAEFER], help="the atlas")
    fetch.add_argument(
        "--parcels", type=int, default=500, choices=SCHAEFER_PARCELS, help="parcels"
    )
    fetch.add_argument(
        "--networks", type=int, default=7, choices=SCHAEFER_NETWORKS, help="networks"
    )
    fetch.add_argument(
        "--space",
        required=True,
        choices=SPACES,
        help="fsLR: the authors' 32k dlabel, for grayordinates; MNI152NLin6Asym: "
        "the 2 mm label image and region table, for volumes",
    )
    fetch.add_argument(
        "--cache-dir",
        metavar="DIR",
        help=f"the cache (default: ${CACHE_VARIABLE}, else ~/.cache/painflow/"
        "atlases); give the same folder as config atlas.cache_dir",
    )
    fetch.add_argument(
        "--base-url",
        metavar="URL",
        help="a mirror folder to download from instead of the official source",
    )
    fetch.add_argument(
        "--sha256",
        metavar="HEX",
        help="the sha256 of a file that has no pinned checksum",
    )
    fetch.set_defaults(handler=_run_fetch)


def _run_fetch(args: argparse.Namespace) -> None:
    version = schaefer_version(args.parcels, args.networks, args.space)
    try:
        files = fetch_schaefer(
            version, args.cache_dir, base_url=args.base_url, sha256=args.sha256
        )
    except (OSError, http.client.HTTPException) as error:
        raise ValueError(f"fetching {version.name} in {args.space}: {error}") from error
    for path in files.values():
        print(path)
    print(f"atlas {version.name} ({args.space}) is in the cache")
