"""Photo checks with Pillow: real images only, size and pixel limits, no decompression bombs, no metadata but the
orientation. What is stored is a fresh JPEG re-encoded from the pixels, never the uploaded bytes.

Cheap checks come before costly ones: the byte size while reading, then (from the header alone) the format and the
pixel count, and only then the decoding, which for a JPEG starts at the smallest scale that still gives the stored
size (`Image.draft`). A multi-picture JPEG (MPO, what many phones write) gives its first picture.
"""

import hashlib
import io
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

ALLOWED_FORMATS = frozenset({"JPEG", "MPO", "PNG", "WEBP"})
ORIENTATION_TAG = 0x0112
SRGB = ImageCms.createProfile("sRGB")


@dataclass
class CleanPhoto:
    content: bytes
    width: int
    height: int
    sha256: str


def _limit_mb() -> int:
    return settings.PHOTO_MAX_BYTES // (1024 * 1024)


def _error(message: str, code: str) -> ValidationError:
    """An error on the `photo` field that keeps its code (the tests and the API tell the kinds apart)."""
    return ValidationError({"photo": ValidationError(message, code=code)})


def _too_many_pixels() -> ValidationError:
    return _error(
        _("The photo has too many pixels (at most %(megapixels)d megapixels).")
        % {"megapixels": settings.PHOTO_MAX_PIXELS // 1_000_000},
        "too_many_pixels",
    )


def photo_bytes(upload: UploadedFile) -> bytes:
    """The uploaded file's bytes, refused while reading once they pass the size limit."""
    too_large = _error(_("The photo is larger than %(size)d MB.") % {"size": _limit_mb()}, "too_large")
    if upload.size is not None and upload.size > settings.PHOTO_MAX_BYTES:
        raise too_large
    upload.seek(0)
    data = upload.read(settings.PHOTO_MAX_BYTES + 1)
    if len(data) > settings.PHOTO_MAX_BYTES:
        raise too_large
    if not data:
        raise _error(_("The photo is empty."), "empty")
    return data


def photo_checksum(data: bytes) -> str:
    """The checksum of the uploaded bytes: the same photo sent again (a retry) is recognised before any decoding."""
    return hashlib.sha256(data).hexdigest()


def _to_srgb(image: Image.Image) -> Image.Image:
    """The pixels in sRGB: an embedded colour profile is applied, then not kept (it can carry text)."""
    profile = image.info.get("icc_profile")
    if profile:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
            return ImageCms.profileToProfile(image, source, SRGB, outputMode="RGB")
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass
    return image.convert("RGB")


def photo_clean(data: bytes) -> CleanPhoto:
    """Check a photo's bytes and return it re-encoded as JPEG; a clear, translated error for anything else."""
    not_an_image = _error(_("This file is not a photo: send a JPEG, PNG or WebP image."), "not_image")
    longest = settings.PHOTO_MAX_SIDE
    try:
        # Opening reads only the header: the format and size are checked before a single pixel is decoded.
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in ALLOWED_FORMATS:
                raise not_an_image
            if probe.width * probe.height > settings.PHOTO_MAX_PIXELS:
                raise _too_many_pixels()
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            if image.format in {"JPEG", "MPO"}:
                # Decode at a half, a quarter or an eighth when that still covers the stored size: far less work.
                image.draft("RGB", (longest, longest))
            image.load()
            orientation = image.getexif().get(ORIENTATION_TAG)
            pixels = _to_srgb(image)
    except ValidationError:
        raise
    except Image.DecompressionBombError as error:
        raise _too_many_pixels() from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise not_an_image from error
    if max(pixels.size) > longest:
        pixels = ImageOps.contain(pixels, (longest, longest))
    # Pixels only: comments, text chunks, XMP and colour profiles copied along by Pillow stay behind.
    pixels.info.clear()
    exif = Image.Exif()
    if orientation in range(1, 9):
        exif[ORIENTATION_TAG] = orientation
    out = io.BytesIO()
    pixels.save(out, format="JPEG", quality=85, optimize=True, exif=exif.tobytes())
    return CleanPhoto(content=out.getvalue(), width=pixels.width, height=pixels.height, sha256=photo_checksum(data))


def photo_attach(photos, upload: UploadedFile, *, too_many: str):
    """Check, clean and store an uploaded photo among `photos` (a report's or a meeting's related manager); the same
    photo sent again (a retry) is kept once, and no more than PHOTOS_PER_REPORT are kept. Returns (photo, created).

    The cheap checks come first (bytes read, a retry recognised, the count), the decoding last."""
    data = photo_bytes(upload)
    existing = photos.filter(sha256=photo_checksum(data)).first()
    if existing is not None:
        return existing, False
    if photos.count() >= settings.PHOTOS_PER_REPORT:
        raise ValidationError({"photo": too_many})
    clean = photo_clean(data)
    photo = photos.model(
        **{photos.field.name: photos.instance},
        sha256=clean.sha256,
        size_bytes=len(clean.content),
        width=clean.width,
        height=clean.height,
    )
    photo.image.save("photo.jpg", ContentFile(clean.content), save=False)
    photo.save()
    return photo, True
