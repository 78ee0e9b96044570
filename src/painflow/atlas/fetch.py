"""The Schaefer 2018 atlas, downloaded once into a cache with pinned checksums.

``painflow atlas fetch Schaefer2018 --parcels N --networks K --space S`` runs
:func:`fetch_schaefer` on a machine with internet; the config name
``Schaefer2018_<N>Parcels<K>Networks`` then resolves offline from the cache
(:func:`cached_schaefer_files`), in the data's space: the authors' fsLR 32k
dlabel for grayordinates, TemplateFlow's MNI152NLin6Asym 2 mm label image and
its region table for volumes. Every download is streamed to a temporary file
in the cache folder and renamed into place only when its checksum is the
pinned one, so the cache never holds a partial or unverified file.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import shlex
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from painflow.core.fileio import atomic_path

SCHAEFER = "Schaefer2018"
FSLR = "fsLR"
MNI = "MNI152NLin6Asym"
SPACES = (FSLR, MNI)
SCHAEFER_PARCELS = tuple(range(100, 1001, 100))
SCHAEFER_NETWORKS = (7, 17)
# TemplateFlow has no 700 or 900 parcel version in MNI152NLin6Asym.
MNI_PARCELS = tuple(n for n in SCHAEFER_PARCELS if n not in (700, 900))
CACHE_VARIABLE = "PAINFLOW_ATLAS_CACHE"
DEFAULT_CACHE = Path("~/.cache/painflow/atlases")
CHECKSUM_ALGORITHMS = ("md5", "sha256", "gitblob")
_CHUNK = 1 << 16
_NAME = re.compile(r"^Schaefer2018_(\d+)Parcels(\d+)Networks$")

# The authors' fsLR 32k dlabels (Schaefer et al. 2018), at the CBIG release
# whose region names nilearn also uses (v0.14.3, corrected label names).
CBIG_URL = (
    "https://raw.githubusercontent.com/ThomasYeoLab/CBIG/"
    "v0.14.3-Update_Yeo2011_Schaefer2018_labelname/stable_projects/"
    "brain_parcellation/Schaefer2018_LocalGlobal/Parcellations/HCP/fslr32k/cifti/"
)
# The same parcellations in MNI152NLin6Asym (FSL's MNI152), as TemplateFlow
# distributes them.
TEMPLATEFLOW_URL = "https://templateflow.s3.amazonaws.com/tpl-MNI152NLin6Asym/"

# Pinned checksums, read from the git tree of templateflow/tpl-MNI152NLin6Asym
# at commit a68885d55e5669fd86b8c749ec97550d8fb5949d: the label images'
# git-annex keys (MD5E-s<size>--<md5>) and the region tables' git blob ids
# (sha1 of b"blob <size>\0" + content). No checksum of the CBIG dlabels
# could be read here, so none is pinned: their fetch takes the user's sha256.
_TEMPLATEFLOW_STEM = "tpl-MNI152NLin6Asym_{}atlas-Schaefer2018_desc-{}_dseg"
PINNED = {
    _TEMPLATEFLOW_STEM.format("res-02_", key) + ".nii.gz": f"md5:{md5}"
    for key, md5 in (
        ("100Parcels7Networks", "b12c02ffb822cd6a73430f536c2d756b"),
        ("100Parcels17Networks", "d6f9e6590cc50d69b80fad0272f66250"),
        ("200Parcels7Networks", "fe43456ac0c6d45c0536b97bed6e139d"),
        ("200Parcels17Networks", "d42e4b0b0e0839428aabd5b3f81210ab"),
        ("300Parcels7Networks", "b96d59257ae131016e40454f588e08b6"),
        ("300Parcels17Networks", "98edd8a756aa1d227fb451e3a5096808"),
        ("400Parcels7Networks", "87669ad82ef50568976d689dd33293da"),
        ("400Parcels17Networks", "279c12faf6ee0c6cb2656b9aea059ce2"),
        ("500Parcels7Networks", "cf0ba1f174cf8068be2950ecb28c3c50"),
        ("500Parcels17Networks", "4cf3926a77633efdcdb3c141742d6396"),
        ("600Parcels7Networks", "1e052e4050d201dfce1add73b9405fb4"),
        ("600Parcels17Networks", "576a0c93baf6cb7f951786a235f34400"),
        ("800Parcels7Networks", "f8aa9655d8814f44db9bd422fd461e1d"),
        ("800Parcels17Networks", "861b2f05258e3cc09d89e47f289799d9"),
        ("1000Parcels7Networks", "99081ee04f188c8de80439a2ec7538e4"),
        ("1000Parcels17Networks", "eda25efb739218169383a916d96dbf69"),
    )
} | {
    _TEMPLATEFLOW_STEM.format("", key) + ".tsv": f"gitblob:{blob}"
    for key, blob in (
        ("100Parcels7Networks", "407c379462da68dd9e73210964da40203083db55"),
        ("100Parcels17Networks", "fea7a32f5e89263922e94c1a060d1fe08a0b37e7"),
        ("200Parcels7Networks", "81cb14162970036acf113bc58058926b8ee89ca8"),
        ("200Parcels17Networks", "077ee1977b5f604b87187a7fa2613e8a758811c8"),
        ("300Parcels7Networks", "e37a9f9522356c4bb49c483e7bce0dcec73ef8c0"),
        ("300Parcels17Networks", "ac6506c1cef36ecaff5500a176edaf8165b26424"),
        ("400Parcels7Networks", "e5e77387323edec1f9c1abacc4d755b9aea5d644"),
        ("400Parcels17Networks", "a3b8238834be81bdfb3d2cf3d599fa48ed62e0f0"),
        ("500Parcels7Networks", "ab85081b95ae4fa3d6237dd7f04d2a01ea164487"),
        ("500Parcels17Networks", "3d4cf947e8079bccfd5d24ca50c4d62d71aa7430"),
        ("600Parcels7Networks", "d16b552c5d5abcbec0421b237e3b04e7494b5515"),
        ("600Parcels17Networks", "9a574f78301fd99ffa5cd85be020112a439c2394"),
        ("800Parcels7Networks", "b066b06258a20f6aa660f57578de426956faa23d"),
        ("800Parcels17Networks", "e0a2bea5bca16d9a6696e235b72f9a80e63e9c66"),
        ("1000Parcels7Networks", "8839ad60503dcddf083aa6da60e8562faf2c3ba7"),
        ("1000Parcels17Networks", "50596c896b71eb3f31ec843e843eb2428b054f24"),
    )
}


@dataclass(frozen=True)
class SchaeferVersion:
    """One Schaefer 2018 parcellation in one space.

    Attributes
    ----------
    parcels : int
        100 to 1000 in steps of 100.
    networks : int
        7 or 17.
    space : {"fsLR", "MNI152NLin6Asym"}
    """

    parcels: int
    networks: int
    space: str

    @property
    def name(self) -> str:
        """The config name, e.g. ``Schaefer2018_500Parcels7Networks``."""
        return f"{SCHAEFER}_{self.parcels}Parcels{self.networks}Networks"

    @property
    def files(self) -> dict[str, str]:
        """Role (``image``, ``labels``) -> file name in the source and cache."""
        if self.space == FSLR:
            stem = f"Schaefer2018_{self.parcels}Parcels_{self.networks}Networks"
            return {"image": f"{stem}_order.dlabel.nii"}
        desc = f"{self.parcels}Parcels{self.networks}Networks"
        return {
            "image": _TEMPLATEFLOW_STEM.format("res-02_", desc) + ".nii.gz",
            "labels": _TEMPLATEFLOW_STEM.format("", desc) + ".tsv",
        }

    @property
    def source_url(self) -> str:
        """The official folder its files are downloaded from."""
        return CBIG_URL if self.space == FSLR else TEMPLATEFLOW_URL

    @property
    def fetch_command(self) -> str:
        """The command that fills the cache with this version."""
        return (
            f"painflow atlas fetch {SCHAEFER} --parcels {self.parcels} "
            f"--networks {self.networks} --space {self.space}"
        )


def schaefer_version(parcels: int, networks: int, space: str) -> SchaeferVersion:
    """Check and return a Schaefer 2018 version.

    Parameters
    ----------
    parcels : int
        100 to 1000 in steps of 100.
    networks : int
        7 or 17.
    space : {"fsLR", "MNI152NLin6Asym"}

    Returns
    -------
    SchaeferVersion

    Raises
    ------
    ValueError
        Naming the value that no published version has.
    """
    if parcels not in SCHAEFER_PARCELS:
        raise ValueError(
            f"Schaefer 2018 has 100 to 1000 parcels in 100s, not {parcels}"
        )
    if networks not in SCHAEFER_NETWORKS:
        raise ValueError(f"Schaefer 2018 has 7 or 17 networks, not {networks}")
    if space not in SPACES:
        raise ValueError(
            f"Schaefer 2018 is fetched in {' or '.join(SPACES)}, not {space}"
        )
    if space == MNI and parcels not in MNI_PARCELS:
        raise ValueError(
            f"Schaefer 2018 in {MNI} has {', '.join(map(str, MNI_PARCELS))} parcels, "
            f"not {parcels}; use {FSLR}, or give the atlas as files"
        )
    return SchaeferVersion(parcels, networks, space)


def parse_schaefer_name(name: str, space: str) -> SchaeferVersion | None:
    """The version a config name such as ``Schaefer2018_500Parcels7Networks`` names.

    Parameters
    ----------
    name : str
        A config ``atlas.name``.
    space : {"fsLR", "MNI152NLin6Asym"}
        The data's space.

    Returns
    -------
    SchaeferVersion or None
        None when the name is not of that form.
    """
    match = _NAME.match(name)
    if match is None:
        return None
    return schaefer_version(int(match[1]), int(match[2]), space)


def atlas_cache_dir(configured: str | Path | None = None) -> Path:
    """The atlas cache folder.

    Parameters
    ----------
    configured : str, Path or None
        Config ``atlas.cache_dir`` or ``--cache-dir``; None falls back on
        the ``PAINFLOW_ATLAS_CACHE`` environment variable, then on
        ``~/.cache/painflow/atlases``.

    Returns
    -------
    Path
    """
    chosen = configured or os.environ.get(CACHE_VARIABLE) or DEFAULT_CACHE
    return Path(chosen).expanduser()


def _cache_folder(cache_dir: str | Path | None) -> Path:
    return atlas_cache_dir(cache_dir) / SCHAEFER


def cached_schaefer_files(
    version: SchaeferVersion, cache_dir: str | Path | None = None
) -> dict[str, Path]:
    """The cached files of a Schaefer version, checked to be there.

    Parameters
    ----------
    version : SchaeferVersion
    cache_dir : str, Path or None
        See :func:`atlas_cache_dir`.

    Returns
    -------
    dict
        Role (``image``, ``labels``) -> path.

    Raises
    ------
    FileNotFoundError
        Naming the missing files and the ``painflow atlas fetch`` command
        that downloads them.
    """
    folder = _cache_folder(cache_dir)
    files = {role: folder / name for role, name in version.files.items()}
    missing = [str(path) for path in files.values() if not path.is_file()]
    if missing:
        option = (
            "" if cache_dir is None else f" --cache-dir {shlex.quote(str(cache_dir))}"
        )
        raise FileNotFoundError(
            f"atlas {version.name} in {version.space} is not in the atlas cache "
            f"(missing {', '.join(missing)}): on a machine with internet run "
            f"`{version.fetch_command}{option}`"
        )
    return files


def file_checksum(path: str | Path, algorithm: str) -> str:
    """A file's checksum as ``<algorithm>:<hex digest>``.

    Parameters
    ----------
    path : str or Path
    algorithm : {"md5", "sha256", "gitblob"}
        ``gitblob`` is git's blob id: sha1 of ``blob <size>``, a NUL byte and the
        content.

    Returns
    -------
    str
    """
    path = Path(path)
    if algorithm not in CHECKSUM_ALGORITHMS:
        raise ValueError(f"unknown checksum algorithm {algorithm!r}")
    if algorithm == "gitblob":
        digest = hashlib.sha1(f"blob {path.stat().st_size}\0".encode())
    else:
        digest = hashlib.new(algorithm)
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return f"{algorithm}:{digest.hexdigest()}"


def _algorithm(checksum: str) -> str:
    algorithm, _, digest = checksum.partition(":")
    if algorithm not in CHECKSUM_ALGORITHMS or not digest:
        raise ValueError(
            f"checksum {checksum!r} is not <algorithm>:<hex> with an algorithm "
            f"of {', '.join(CHECKSUM_ALGORITHMS)}"
        )
    return algorithm


def download(url: str, destination: str | Path, checksum: str) -> Path:
    """Download a file into place only if it has the expected checksum.

    The body is streamed to a temporary file beside the destination, which
    is renamed onto it once complete and verified and removed otherwise: a
    failed, partial or mismatching download leaves nothing.

    Parameters
    ----------
    url : str
    destination : str or Path
    checksum : str
        ``<algorithm>:<hex digest>`` (:func:`file_checksum`).

    Returns
    -------
    Path
        The destination.

    Raises
    ------
    ValueError
        On a checksum mismatch, naming the file, the URL and both checksums.
    OSError
        When the download fails or ends early.
    """
    destination = Path(destination)
    algorithm = _algorithm(checksum)
    with atomic_path(destination) as tmp:
        try:
            with urllib.request.urlopen(url, timeout=60) as response:
                expected_size = response.headers.get("Content-Length")
                with tmp.open("wb") as out:
                    while chunk := response.read(_CHUNK):
                        out.write(chunk)
        except http.client.HTTPException as error:  # e.g. IncompleteRead
            raise OSError(f"{url}: the download broke off ({error!r})") from error
        size = tmp.stat().st_size
        if expected_size is not None and size != int(expected_size):
            raise OSError(f"{url}: got {size} of {expected_size} bytes")
        actual = file_checksum(tmp, algorithm)
        if actual.lower() != checksum.lower():
            raise ValueError(
                f"{destination.name} from {url} has checksum {actual}, but the "
                f"pinned checksum is {checksum}: not stored"
            )
    return destination


def fetch_schaefer(
    version: SchaeferVersion,
    cache_dir: str | Path | None = None,
    base_url: str | None = None,
    pinned: dict[str, str] = PINNED,
    sha256: str | None = None,
) -> dict[str, Path]:
    """Download a Schaefer version into the cache, skipping verified files.

    Parameters
    ----------
    version : SchaeferVersion
    cache_dir : str, Path or None
        See :func:`atlas_cache_dir`.
    base_url : str, optional
        A folder URL to download from instead of the official one (a mirror).
    pinned : dict
        File name -> ``<algorithm>:<hex digest>``; :data:`PINNED` by default.
    sha256 : str, optional
        The image's sha256 when ``pinned`` has none (the CBIG dlabels).

    Returns
    -------
    dict
        Role (``image``, ``labels``) -> cached path.

    Raises
    ------
    ValueError
        When a file has no pinned checksum and none is given, ``sha256`` is
        not one, or a download's checksum differs from the pinned one.
    OSError
        When a download fails.
    """
    if sha256 is not None and not re.fullmatch("[0-9a-fA-F]{64}", sha256):
        raise ValueError(f"--sha256 takes 64 hexadecimal digits, not {sha256!r}")
    folder = _cache_folder(cache_dir)
    root = base_url or version.source_url
    root = root if root.endswith("/") else f"{root}/"
    fetched = {}
    for role, name in version.files.items():
        checksum = pinned.get(name) or (f"sha256:{sha256.lower()}" if sha256 else None)
        path = folder / name
        if checksum is None and path.is_file():  # verified when it was stored
            fetched[role] = path
            continue
        if checksum is None:
            raise ValueError(
                f"no checksum is pinned for {name} ({root}{name}): give the "
                "sha256 of a copy you trust with --sha256"
            )
        if not (
            path.is_file() and file_checksum(path, _algorithm(checksum)) == checksum
        ):
            download(root + name, path, checksum)
        fetched[role] = path
    return fetched
