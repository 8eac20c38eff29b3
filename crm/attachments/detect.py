"""What a file is, judged by its content (magic bytes and container structure), against an
allow-list: PDF, images, Office and WPS documents, and zip archives of those.

`filetype` recognises the single-stream formats; Office/WPS containers are checked here: OLE2
compound files (legacy .doc/.xls/.ppt and WPS's .wps/.et/.dps) by their signature, OOXML (and
WPS's zip format) as a zip with [Content_Types].xml and the part that names the application.
A plain zip is opened and every member is checked the same way (one level only; no archive in
the archive), reading at most ZIP_MAX_TOTAL bytes unpacked and ZIP_MAX_MEMBERS entries, counted
while reading (a zip's own sizes can lie)."""
from __future__ import annotations

import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import BinaryIO

import filetype
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from crm.attachments.errors import AttachmentError

ZIP_MAX_TOTAL = 200 * 1024 * 1024
ZIP_MAX_MEMBERS = 500
OLE2_SIGNATURE = bytes.fromhex("D0CF11E0A1B11AE1")

# Content kinds: label, and the file name endings that fit.
KIND_LABELS = {
    "pdf": _l("a PDF document"), "jpeg": _l("a JPEG image"), "png": _l("a PNG image"),
    "gif": _l("a GIF image"), "webp": _l("a WebP image"), "tiff": _l("a TIFF image"),
    "bmp": _l("a BMP image"), "ole": _l("an Office or WPS document (older format)"),
    "word": _l("a Word or WPS text document"), "excel": _l("an Excel or WPS spreadsheet"),
    "powerpoint": _l("a PowerPoint or WPS presentation"), "zip": _l("a zip archive"),
}
EXTENSIONS = {
    "pdf": {"pdf"}, "jpeg": {"jpg", "jpeg"}, "png": {"png"}, "gif": {"gif"}, "webp": {"webp"},
    "tiff": {"tif", "tiff"}, "bmp": {"bmp"}, "ole": {"doc", "xls", "ppt", "wps", "et", "dps"},
    "word": {"docx", "wps"}, "excel": {"xlsx", "et"}, "powerpoint": {"pptx", "dps"}, "zip": {"zip"},
}
ALLOWED_EXTENSIONS = frozenset().union(*EXTENSIONS.values())
MIMETYPES = {
    "pdf": "application/pdf", "jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png",
    "gif": "image/gif", "webp": "image/webp", "tif": "image/tiff", "tiff": "image/tiff", "bmp": "image/bmp",
    "doc": "application/msword", "xls": "application/vnd.ms-excel", "ppt": "application/vnd.ms-powerpoint",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "wps": "application/kswps", "et": "application/kset", "dps": "application/ksdps",
    "zip": "application/zip",
}
_FILETYPE_KINDS = {"pdf": "pdf", "jpg": "jpeg", "png": "png", "apng": "png", "gif": "gif", "webp": "webp",
                   "tif": "tiff", "bmp": "bmp"}
_OOXML_PARTS = (("word/", "word"), ("xl/", "excel"), ("ppt/", "powerpoint"))


@dataclass(frozen=True)
class Detected:
    kind: str          # a key of KIND_LABELS
    extension: str     # the name's ending, lower case, without the dot
    mimetype: str      # what the download is served as


def extension_of(name: str) -> str:
    suffix = PurePosixPath(name.replace("\\", "/")).suffix
    return suffix[1:].lower() if suffix else ""


def not_allowed_message() -> str:
    return _("The file's content is not an allowed type (PDF, images, Word/Excel/PowerPoint, WPS "
             "documents, or a zip of those).")


def detect(stream: BinaryIO, name: str) -> Detected:
    """The file's kind if its content is allowed and fits the name's ending; else AttachmentError."""
    extension = extension_of(name)
    kind = _kind(stream, name, nested=False)
    if extension not in EXTENSIONS[kind]:
        if not extension:
            raise AttachmentError(_("The file name has no ending; name it for its content (e.g. “.pdf”)."))
        raise AttachmentError(_("The file's content is %(kind)s, which does not fit its name ending "
                                "“.%(ext)s”. Nothing was stored.", kind=KIND_LABELS[kind], ext=extension))
    return Detected(kind, extension, MIMETYPES[extension])


def _kind(stream: BinaryIO, name: str, nested: bool) -> str:
    stream.seek(0)
    head = stream.read(8192)
    stream.seek(0)
    if not head:
        raise AttachmentError(_("The file is empty."))
    if head.startswith(OLE2_SIGNATURE):
        return "ole"
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(stream, name, nested)
    guess = filetype.guess(head)
    kind = _FILETYPE_KINDS.get(guess.extension) if guess is not None else None
    if kind is None:
        if nested:
            raise AttachmentError(_("The zip archive holds “%(name)s”, whose content is not an allowed type.",
                                    name=name))
        raise AttachmentError(not_allowed_message())
    return kind


def _open_zip(stream: BinaryIO, name: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise AttachmentError(_("“%(name)s” is damaged and cannot be opened.", name=name))


def _zip_kind(stream: BinaryIO, name: str, nested: bool) -> str:
    archive = _open_zip(stream, name)
    names = archive.namelist()
    if "[Content_Types].xml" in names:
        for prefix, kind in _OOXML_PARTS:
            if any(n.startswith(prefix) for n in names):
                return kind
        raise AttachmentError(not_allowed_message())
    if nested:
        raise AttachmentError(_("The zip archive holds another archive (“%(name)s”); send the files "
                                "in one archive without archives inside.", name=name))
    _check_members(archive)
    return "zip"


def _check_members(archive: zipfile.ZipFile) -> None:
    infos = archive.infolist()
    if len(infos) > ZIP_MAX_MEMBERS:
        raise AttachmentError(_("The zip archive holds more than %(n)s entries.", n=ZIP_MAX_MEMBERS))
    files = [i for i in infos if not i.is_dir()]
    if not files:
        raise AttachmentError(_("The zip archive is empty."))
    too_big = _("The zip archive is larger than %(mb)s MB once unpacked.", mb=ZIP_MAX_TOTAL // (1024 * 1024))
    if sum(i.file_size for i in files) > ZIP_MAX_TOTAL:
        raise AttachmentError(too_big)
    total = 0
    for info in files:
        member = info.filename
        if info.flag_bits & 0x1:
            raise AttachmentError(_("The zip archive is encrypted; send the files without a password."))
        ext = extension_of(member)
        if ext == "zip":
            raise AttachmentError(_("The zip archive holds another archive (“%(name)s”); send the files "
                                    "in one archive without archives inside.", name=member))
        if ext not in ALLOWED_EXTENSIONS:
            raise AttachmentError(_("The zip archive holds “%(name)s”, which is not an allowed type.",
                                    name=member))
        with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as copy:
            try:
                with archive.open(info) as source:
                    while chunk := source.read(1024 * 1024):
                        total += len(chunk)
                        if total > ZIP_MAX_TOTAL:
                            raise AttachmentError(too_big)
                        copy.write(chunk)
            except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
                raise AttachmentError(_("“%(name)s” is damaged and cannot be opened.", name=member))
            kind = _kind(copy, member, nested=True)
        if ext not in EXTENSIONS[kind]:
            raise AttachmentError(_("In the zip archive, “%(name)s” is %(kind)s, which does not fit its "
                                    "name ending.", name=member, kind=KIND_LABELS[kind]))


__all__ = ["Detected", "detect", "extension_of", "ALLOWED_EXTENSIONS"]
