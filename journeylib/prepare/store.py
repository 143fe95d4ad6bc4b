"""The processed folder: complete versions behind one pointer replaced by a rename, and a writers' lock.

    <processed>/
      current -> versions/<id>                          the complete version readers open
      customers.parquet -> current/customers.parquet    one fixed link per file of a version
      versions/<id>/                                    tables, rejects, personas, summary.json, fingerprint.json
      .tmp-<pid>/                                       a version being written
      .work-<pid>/                                      the engine's database and spill while preparing

A version is written completely in `.tmp-<pid>` (tables, summary, then the runner's personas and
fingerprint), moved into `versions/` and only then named by `current`, so a reader sees the old complete
version or the new one, never a mix, whenever a writer is killed. A writer holds an exclusive flock on the
folder from its first look at the current version until it has published, so two writers never
interleave (the second waits). A run holds a shared flock on the version it reads until its last notebook
ends; writers remove only versions nobody holds, and whatever a killed writer left (.tmp-*, .work-*,
unpublished versions) the next writer removes. docs/prepare.md#the-processed-folder.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import time
from datetime import datetime, timezone
from pathlib import Path

from journeylib.errors import InputError
from journeylib.paths import CURRENT, CURRENT_FILE, current_version

try:
    import fcntl
except ImportError:  # Windows: no locks; do not run two writers on one folder there
    fcntl = None

VERSIONS = "versions"
TEMPORARY = ".tmp-"  # anything named so in the folder belongs to a writer; the next writer removes it
WORK = ".work-"
TRASH = ".trash-"
FAULT_ENV = "JOURNEY_FAULT"


def checkpoint(point: str) -> None:
    """Test hook at a named point of writing: $JOURNEY_FAULT=kill:<point> kills this process there
    (SIGKILL, nothing cleaned up); pause:<point>:<file> writes <file>.reached, then waits until <file>
    exists (at most 5 minutes)."""
    spec = os.environ.get(FAULT_ENV)
    if not spec:
        return
    action, _, rest = spec.partition(":")
    name, _, release = rest.partition(":")
    if name != point:
        return
    if action == "kill":
        os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))
    elif action == "pause" and release:
        Path(release + ".reached").write_text(str(os.getpid()), encoding="utf-8")
        deadline = time.monotonic() + 300
        while not Path(release).exists() and time.monotonic() < deadline:
            time.sleep(0.05)


# ---------------------------------------------------------------- locks

def _open_folder(path: Path) -> int:
    return os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))


def _still_named(fd: int, path: Path) -> bool:
    """The locked folder is still the one at `path` (not removed or replaced while we waited)."""
    try:
        named = os.stat(path)
    except FileNotFoundError:
        return False
    locked = os.fstat(fd)
    return (named.st_dev, named.st_ino) == (locked.st_dev, locked.st_ino)


def _make_folders(root: Path) -> list[Path]:
    """Create `root` and its missing parents; the ones this call made, outermost first. An --out that
    names a file, or a place that cannot be written, is an InputError."""
    missing = []
    for folder in (root, *root.parents):
        if folder.is_dir():
            break
        if folder.exists() or folder.is_symlink():
            what = "the processed folder" if folder == root else f"a parent of {root}"
            raise InputError(f"{folder}: is a file, not a folder (expected {what})")
        missing.append(folder)
    made = []
    for folder in reversed(missing):
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        except OSError as error:
            raise InputError(f"{folder}: cannot create the processed folder ({error.strerror})") from None
        made.append(folder)
    if not os.access(root, os.W_OK | os.X_OK):
        raise InputError(f"{root}: the processed folder is not writable")
    return made


class Writer:
    """The lock on one processed folder, held by one writer; see `writing`."""

    def __init__(self, root: Path):
        self.root = root
        self.published = False


@contextlib.contextmanager
def writing(root, log=None):
    """Exclusive use of the processed folder `root` (created when missing). A second writer waits,
    saying so once. Leftovers of killed writers are removed first. Folders this writer created are
    removed again when it publishes nothing (bad input leaves no trace)."""
    root = Path(root)
    made: list[Path] = []
    fd = writer = None
    try:
        while fd is None:
            made += _make_folders(root)
            try:
                fd = _open_folder(root)
            except FileNotFoundError:
                continue
            if fcntl is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    if log:
                        log(f"prepare: waiting for {root}: another journey prepare or run is writing it")
                    fcntl.flock(fd, fcntl.LOCK_EX)
            if not _still_named(fd, root):  # its creator removed it while we waited: start again
                os.close(fd)
                fd = None
        writer = Writer(root)
        remove_leftovers(root)
        repair(root)
        checkpoint("locked")
        yield writer
    finally:
        try:
            if made and not (writer is not None and writer.published):
                for folder in reversed(made):
                    with contextlib.suppress(OSError):
                        folder.rmdir()  # only when empty
        finally:
            if fd is not None:
                os.close(fd)


def remove_leftovers(root: Path) -> None:
    """What killed writers left: temporary and work folders, unpublished or unheld old versions, and the
    work folders of the layout before versions (`.<name>.work-<pid>` beside the folder). Called with the
    writer lock held, so none of it belongs to a live writer."""
    if fcntl is None:
        return
    for path in root.iterdir():
        if path.name.startswith((TEMPORARY, WORK)):
            _remove(path)
    for pattern in (f".{root.name}.work-*", f".{root.name}.tmp-*"):
        for path in root.parent.glob(pattern):
            _remove(path)
    remove_old_versions(root)


def repair(root: Path) -> None:
    """A folder copied without its symlinks (a backup restore, `cp -rL`, `shutil.copytree`): `current` is
    a real folder and the top-level files are copies that no longer follow the current version. The
    copied `current` becomes a version again (one rename) and `current` a link to it; then every top-level
    copy of a version file is replaced by its link (one rename each), so the top level never stays old
    while readers of `current` see new tables. Called with the writer lock held."""
    pointer = root / CURRENT
    if pointer.is_dir() and not pointer.is_symlink():
        versions = root / VERSIONS
        versions.mkdir(exist_ok=True)
        name = "restored-" + _version_name(versions)
        temporary = root / f"{TEMPORARY}{os.getpid()}.current"
        _remove(temporary)
        try:
            os.symlink(f"{VERSIONS}/{name}", temporary, target_is_directory=True)
        except OSError:
            temporary = None
        os.rename(pointer, versions / name)
        if temporary is None:
            _point(root, f"{VERSIONS}/{name}")
        else:
            os.replace(temporary, pointer)
            _remove(root / CURRENT_FILE)
    version = current_version(root)
    if version != root and version.is_dir():
        _link_files(root, version)
        _refresh_copies(root, version)
        _drop_strays(root, version)


def _drop_strays(root: Path, version: Path) -> None:
    """Top-level tables and summaries that are plain files (copies) of a name the current version does not
    have: an older version's file, which would be read as if it were current."""
    for path in root.iterdir():
        if (path.is_file() and not path.is_symlink() and not path.name.startswith(".")
                and path.suffix in (".parquet", ".json") and not (version / path.name).exists()):
            _remove(path)


def _refresh_copies(root: Path, version: Path) -> None:
    """Where symlinks cannot be made (a `current.txt` pointer), a top-level regular file of a version's
    name is replaced by a copy of the current version's file (written aside, then one rename)."""
    if (root / CURRENT).is_symlink():
        return
    for path in sorted(version.iterdir()):
        top = root / path.name
        if not path.is_file() or not top.is_file() or top.is_symlink():
            continue
        temporary = root / f"{TEMPORARY}{os.getpid()}.copy"
        _remove(temporary)
        shutil.copy2(path, temporary)
        os.replace(temporary, top)


def remove_old_versions(root: Path) -> None:
    versions = root / VERSIONS
    if not versions.is_dir():
        return
    current = current_version(root).name
    for path in versions.iterdir():
        if path.name != current:
            _remove_version(path)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            path.unlink()


def _remove_version(path: Path) -> None:
    """Remove an old version unless a run holds it (its shared lock makes ours fail)."""
    try:
        fd = _open_folder(path)
    except (FileNotFoundError, NotADirectoryError):
        _remove(path)
        return
    try:
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return  # a run still reads it; a later writer removes it
        trash = path if path.name.startswith(TRASH) else path.with_name(TRASH + path.name)
        if trash != path:
            _remove(trash)
            os.rename(path, trash)  # never a half-removed folder under a version's name
        checkpoint("cleanup")
        shutil.rmtree(trash, ignore_errors=True)
    finally:
        os.close(fd)


# ---------------------------------------------------------------- versions

@contextlib.contextmanager
def new_version(writer: Writer):
    """A fresh folder to write one complete version into; published when the block ends without an
    error, removed otherwise (the current version stays as it was)."""
    staging = writer.root / f"{TEMPORARY}{os.getpid()}"
    _remove(staging)
    try:
        staging.mkdir()
    except OSError as error:
        raise InputError(f"{writer.root}: cannot write the processed folder ({error.strerror})") from None
    try:
        yield staging
        publish(writer, staging)
    finally:
        _remove(staging)


def publish(writer: Writer, staging: Path) -> Path:
    """Move a complete version into versions/, point `current` at it, remove the old ones nobody holds."""
    root = writer.root
    versions = root / VERSIONS
    versions.mkdir(exist_ok=True)
    _adopt_unversioned(root, versions)
    name = _version_name(versions)
    os.rename(staging, versions / name)
    checkpoint("publish.renamed")
    _point(root, f"{VERSIONS}/{name}")
    writer.published = True
    checkpoint("publish.pointer")
    _link_files(root, versions / name)
    _refresh_copies(root, versions / name)
    _drop_strays(root, versions / name)
    remove_old_versions(root)
    return versions / name


def _version_name(versions: Path) -> str:
    base = f"{datetime.now(timezone.utc):%Y-%m-%dT%H%M%SZ}-{os.getpid()}"
    name, n = base, 1
    while (versions / name).exists() or (versions / (TRASH + name)).exists():
        n += 1
        name = f"{base}-{n}"
    return name


def _point(root: Path, target: str) -> None:
    """Replace the pointer with one rename: a symlink `current`, else (no symlinks) the file current.txt."""
    temporary = root / f"{TEMPORARY}{os.getpid()}.current"
    _remove(temporary)
    try:
        os.symlink(target, temporary, target_is_directory=True)
        os.replace(temporary, root / CURRENT)
    except OSError:
        _remove(temporary)
        temporary.write_text(target + "\n", encoding="utf-8")
        os.replace(temporary, root / CURRENT_FILE)
        return
    _remove(root / CURRENT_FILE)


def _link_files(root: Path, version: Path) -> None:
    """`<root>/<file>` -> `current/<file>` for every file of the version: fixed links that always reach the
    current version, so `data/processed/customers.parquet` keeps working (not where symlinks cannot be made)."""
    if not (root / CURRENT).is_symlink():
        return
    for path in sorted(version.iterdir()):
        link, target = root / path.name, f"{CURRENT}/{path.name}"
        if link.is_symlink() and os.readlink(link) == target:
            continue
        if link.is_dir() and not link.is_symlink():
            continue  # never replace a folder
        temporary = root / f"{TEMPORARY}{os.getpid()}.link"
        _remove(temporary)
        try:
            os.symlink(target, temporary)
        except OSError:
            return
        os.replace(temporary, link)


def _adopt_unversioned(root: Path, versions: Path) -> None:
    """A folder written before versions existed (tables straight in it): its files become a version first
    (hard links, same bytes), then links replace them one by one, so it is the old version throughout."""
    from journeylib.tables import OPTIONAL_TABLES, TABLES

    if current_version(root) != root or not (root / "summary.json").is_file() or (root / "summary.json").is_symlink():
        return
    names = [f"{t}.parquet" for t in TABLES + OPTIONAL_TABLES] + ["summary.json", "fingerprint.json"]
    files = [root / n for n in names if (root / n).is_file() and not (root / n).is_symlink()]
    staging = root / f"{TEMPORARY}{os.getpid()}.earlier"
    _remove(staging)
    staging.mkdir()
    for path in files:
        try:
            os.link(path, staging / path.name)
        except OSError:
            shutil.copy2(path, staging / path.name)
    name = "earlier-" + _version_name(versions)
    os.rename(staging, versions / name)
    _point(root, f"{VERSIONS}/{name}")
    _link_files(root, versions / name)


# ---------------------------------------------------------------- readers

class Held:
    """A shared lock on one version (`folder`) while a run reads it; `release()` or a with block ends it."""

    def __init__(self, folder: Path, fd: int | None):
        self.folder, self._fd = folder, fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()


def hold(writer: Writer) -> Held:
    """Hold the current version for reading. Taken while the writer lock is held, so no writer is
    removing it at that moment, and none will while it is held."""
    folder = current_version(writer.root)
    if fcntl is None or folder == writer.root or not folder.is_dir():
        return Held(folder, None)
    fd = _open_folder(folder)
    fcntl.flock(fd, fcntl.LOCK_SH)
    return Held(folder, fd)
