//! Photos as Wujia keeps them. Every photo taken in (of a request, a patrol finding, a case step, a baseline, an
//! activity) is decoded under a pixel and memory limit, turned upright, shrunk to a size phones show well and
//! re-encoded as JPEG: what is kept is only the picture, never the uploaded file, so trailers (a second picture
//! appended by a "motion photo", an HTML page behind a JPEG) and all metadata (EXIF, GPS, XMP, comments) are gone.
//! A small preview is kept beside each photo for lists and timelines.

use image::{DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader, Limits};
use std::io::Cursor;
use wujia_core::media::{ImageType, MAX_PHOTO_BYTES, sniff};
use wujia_store::{BlobStore, Store};

/// The media type of every photo kept since photos are re-encoded.
pub const MEDIA_TYPE: &str = "image/jpeg";
/// Most pixels a photo may have (a 40-megapixel camera's).
pub const MAX_PIXELS: u64 = 40_000_000;
/// Longest side a photo may have, in pixels.
pub const MAX_SIDE: u32 = 12_000;
/// Most memory a decoder may take for one photo.
const MAX_DECODE_BYTES: u64 = 256 * 1024 * 1024;
/// Longest side of a kept photo: sharp on a phone, small on the wire.
pub const FULL_SIDE: u32 = 2048;
/// Longest side of a preview.
pub const PREVIEW_SIDE: u32 = 320;
/// JPEG quality of what is kept.
const QUALITY: u8 = 85;

/// Why a photo was refused: the photo is at fault, and the person can send another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Over [`MAX_PHOTO_BYTES`].
    #[error("over {MAX_PHOTO_BYTES} bytes")]
    TooLarge,
    /// Not JPEG, PNG or WebP by its content.
    #[error("not a JPEG, PNG or WebP image")]
    NotAnImage,
    /// More pixels than [`MAX_PIXELS`], a side over [`MAX_SIDE`], or more memory than a decoder may take.
    #[error("too many pixels to decode")]
    TooManyPixels,
    /// A JPEG that ends before its picture does.
    #[error("cut short")]
    Truncated,
    /// The picture cannot be decoded.
    #[error("cannot be decoded")]
    Damaged,
}

/// Why a photo was not kept.
#[derive(Debug, thiserror::Error)]
pub enum PhotoError {
    /// The photo is refused.
    #[error("photo refused: {refusal}")]
    Refused {
        /// Why.
        refusal: Refusal,
        /// The decoder's own account, when it gave one.
        #[source]
        cause: Option<ImageError>,
    },
    /// The decoded picture could not be encoded again (a fault of ours, not of the photo).
    #[error("re-encoding a photo")]
    Encode(#[source] ImageError),
    /// The decoding task did not finish.
    #[error("the photo task failed")]
    Task(#[source] tokio::task::JoinError),
    /// The photo could not be written to the blob store.
    #[error("keeping a photo")]
    Keep(#[source] std::io::Error),
}

impl PhotoError {
    /// Why the photo was refused, when the photo is at fault rather than the server.
    pub fn refusal(&self) -> Option<Refusal> {
        match self {
            Self::Refused { refusal, .. } => Some(*refusal),
            _ => None,
        }
    }
}

impl From<Refusal> for PhotoError {
    fn from(refusal: Refusal) -> Self {
        Self::Refused { refusal, cause: None }
    }
}

/// A photo decoded and re-encoded: JPEG bytes that hold only the picture, and its preview.
#[derive(Debug, Clone)]
pub struct CleanPhoto {
    jpeg: Vec<u8>,
    preview: Vec<u8>,
    width: u32,
    height: u32,
}

impl CleanPhoto {
    /// The photo as kept: a JPEG at most [`FULL_SIDE`] on its longest side, without metadata.
    pub fn jpeg(&self) -> &[u8] {
        &self.jpeg
    }

    /// The preview: a JPEG at most [`PREVIEW_SIDE`] on its longest side.
    pub fn preview(&self) -> &[u8] {
        &self.preview
    }

    /// Width and height of the kept photo, upright.
    pub fn dimensions(&self) -> (u32, u32) {
        (self.width, self.height)
    }
}

/// A photo in the blob store, with its preview recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptPhoto {
    /// The photo's blob (SHA-256 of its bytes).
    pub blob: String,
    /// Its size in bytes.
    pub size: i64,
}

impl KeptPhoto {
    /// The media type of a kept photo.
    pub fn media_type(&self) -> &'static str {
        MEDIA_TYPE
    }
}

/// Photos decoded at once on this node, so that decoding takes at most this many times [`MAX_DECODE_BYTES`].
const DECODING_AT_ONCE: usize = 4;
static DECODING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(DECODING_AT_ONCE);

/// Decodes, checks and re-encodes a photo off the async threads, so a large picture does not hold up others; a
/// photo waits its turn while [`DECODING_AT_ONCE`] others are being decoded.
pub async fn take_in(bytes: Vec<u8>) -> Result<CleanPhoto, PhotoError> {
    let _turn = DECODING.acquire().await.expect("the decoding turns are never closed");
    tokio::task::spawn_blocking(move || clean(&bytes)).await.map_err(PhotoError::Task)?
}

/// Keeps a cleaned photo and its preview in the blob store and records which preview belongs to it.
pub async fn keep(blobs: &BlobStore, store: &Store, photo: CleanPhoto) -> crate::Result<KeptPhoto> {
    let blobs = blobs.clone();
    let size = photo.jpeg.len() as i64;
    let (blob, preview) = tokio::task::spawn_blocking(move || -> Result<_, PhotoError> {
        let blob = blobs.put(&photo.jpeg).map_err(PhotoError::Keep)?;
        let preview = blobs.put(&photo.preview).map_err(PhotoError::Keep)?;
        Ok((blob, preview))
    })
    .await
    .map_err(PhotoError::Task)??;
    store.record_preview(&blob, &preview).await?;
    Ok(KeptPhoto { blob, size })
}

/// Decodes a photo under the limits, turns it upright and re-encodes it with its preview.
pub fn clean(bytes: &[u8]) -> Result<CleanPhoto, PhotoError> {
    if bytes.len() > MAX_PHOTO_BYTES {
        return Err(Refusal::TooLarge.into());
    }
    let format = match sniff(bytes).ok_or(Refusal::NotAnImage)? {
        ImageType::Jpeg => ImageFormat::Jpeg,
        ImageType::Png => ImageFormat::Png,
        ImageType::Webp => ImageFormat::WebP,
    };
    // The JPEG decoder fills a missing end with grey rather than failing: a picture cut short is found here.
    if format == ImageFormat::Jpeg {
        check_jpeg_end(bytes)?;
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(refusal)?;
    let (w, h) = decoder.dimensions();
    if u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(Refusal::TooManyPixels.into());
    }
    let orientation = decoder.orientation().map_err(refusal)?;
    let mut picture = DynamicImage::from_decoder(decoder).map_err(refusal)?;
    picture.apply_orientation(orientation);
    let full = shrunk(&picture, FULL_SIDE).unwrap_or(picture);
    let preview = encode(shrunk(&full, PREVIEW_SIDE).as_ref().unwrap_or(&full))?;
    Ok(CleanPhoto { jpeg: encode(&full)?, preview, width: full.width(), height: full.height() })
}

fn refusal(e: ImageError) -> PhotoError {
    let refusal = match e {
        ImageError::Limits(_) => Refusal::TooManyPixels,
        ImageError::Unsupported(_) => Refusal::NotAnImage,
        _ => Refusal::Damaged,
    };
    PhotoError::Refused { refusal, cause: Some(e) }
}

/// The picture shrunk so that its longest side is `side`, if it is larger.
fn shrunk(picture: &DynamicImage, side: u32) -> Option<DynamicImage> {
    (picture.width().max(picture.height()) > side).then(|| picture.thumbnail(side, side))
}

/// Encodes as baseline JPEG; transparent parts are laid on white, as a page shows them.
fn encode(picture: &DynamicImage) -> Result<Vec<u8>, PhotoError> {
    let rgb = if picture.color().has_alpha() {
        let mut rgba = picture.to_rgba8();
        for p in rgba.pixels_mut() {
            let a = u16::from(p[3]);
            for c in &mut p.0[..3] {
                *c = ((u16::from(*c) * a + 255 * (255 - a)) / 255) as u8;
            }
        }
        DynamicImage::ImageRgba8(rgba).into_rgb8()
    } else {
        picture.to_rgb8()
    };
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, QUALITY)
        .encode_image(&rgb)
        .map_err(PhotoError::Encode)?;
    Ok(out)
}

/// Checks that a JPEG's first picture reaches its end marker: the segments up to the first scan are walked, then
/// the scan data must hold an end-of-image marker (in scan data a 0xFF byte is followed only by 0x00 or a restart
/// marker, so `FF D9` there is the end and nothing else). A segment that is not one is damage; running out of
/// bytes is a photo cut short.
fn check_jpeg_end(b: &[u8]) -> Result<(), Refusal> {
    let mut i = 2;
    loop {
        if i + 4 > b.len() {
            return Err(Refusal::Truncated);
        }
        if b[i] != 0xFF {
            return Err(Refusal::Damaged);
        }
        let marker = b[i + 1];
        if marker == 0xFF {
            // A fill byte before a marker.
            i += 1;
            continue;
        }
        let len = usize::from(u16::from_be_bytes([b[i + 2], b[i + 3]]));
        if len < 2 {
            return Err(Refusal::Damaged);
        }
        let next = i + 2 + len;
        if marker == 0xDA {
            let scan = b.get(next..).ok_or(Refusal::Truncated)?;
            return if scan.windows(2).any(|w| w == [0xFF, 0xD9]) { Ok(()) } else { Err(Refusal::Truncated) };
        }
        i = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageEncoder, Rgb, RgbImage};

    fn refused(bytes: &[u8]) -> Option<Refusal> {
        clean(bytes).err().and_then(|e| e.refusal())
    }

    fn photo(width: u32, height: u32) -> Vec<u8> {
        let img = RgbImage::from_fn(width, height, |x, y| Rgb([(x % 256) as u8, (y % 256) as u8, 90]));
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90).encode_image(&img).unwrap();
        out
    }

    /// A JPEG whose EXIF block holds a GPS tag and which turns the picture a quarter (orientation 6).
    fn with_exif(jpeg: &[u8]) -> Vec<u8> {
        // TIFF, little-endian: IFD0 with Orientation = 6 and a GPS IFD pointer to an IFD with GPSLatitudeRef 'N'.
        let mut tiff = b"II*\0\x08\0\0\0".to_vec();
        tiff.extend([2, 0]); // two entries
        tiff.extend([0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0]); // Orientation, SHORT, 1, 6
        tiff.extend([0x25, 0x88, 4, 0, 1, 0, 0, 0, 38, 0, 0, 0]); // GPSInfo, LONG, 1, offset 38
        tiff.extend([0, 0, 0, 0]); // no next IFD
        tiff.extend([1, 0]); // GPS IFD: one entry
        tiff.extend([0x01, 0x00, 2, 0, 2, 0, 0, 0, b'N', 0, 0, 0]); // GPSLatitudeRef "N"
        tiff.extend([0, 0, 0, 0]);
        let mut app1 = b"Exif\0\0".to_vec();
        app1.extend(tiff);
        let mut out = jpeg[..2].to_vec();
        out.extend([0xFF, 0xE1]);
        out.extend(((app1.len() + 2) as u16).to_be_bytes());
        out.extend(app1);
        out.extend(&jpeg[2..]);
        out
    }

    #[test]
    fn a_photo_is_re_encoded_without_its_metadata_and_turned_upright() {
        let sent = with_exif(&photo(300, 200));
        assert!(sent.windows(4).any(|w| w == b"Exif"));
        let clean = clean(&sent).unwrap();
        assert_eq!(clean.dimensions(), (200, 300), "orientation 6 turns the picture a quarter");
        assert!(!clean.jpeg().windows(4).any(|w| w == b"Exif"));
        let kept = image::load_from_memory(clean.jpeg()).unwrap();
        assert_eq!((kept.width(), kept.height()), (200, 300));
    }

    #[test]
    fn a_large_photo_is_kept_within_the_phone_size_and_its_preview_small() {
        let clean = clean(&photo(4000, 1000)).unwrap();
        assert_eq!(clean.dimensions(), (FULL_SIDE, 512));
        let preview = image::load_from_memory(clean.preview()).unwrap();
        assert_eq!((preview.width(), preview.height()), (PREVIEW_SIDE, 80));
    }

    #[test]
    fn a_transparent_png_is_laid_on_white() {
        let img = image::RgbaImage::from_pixel(10, 10, image::Rgba([0, 0, 0, 0]));
        let mut png = Vec::new();
        image::codecs::png::PngEncoder::new(&mut png)
            .write_image(img.as_raw(), 10, 10, image::ExtendedColorType::Rgba8)
            .unwrap();
        let clean = clean(&png).unwrap();
        let kept = image::load_from_memory(clean.jpeg()).unwrap().to_rgb8();
        assert!(kept.pixels().all(|p| p.0.iter().all(|c| *c > 240)), "white, not black");
    }

    #[test]
    fn a_jpeg_cut_short_is_refused() {
        let whole = photo(64, 64);
        assert_eq!(refused(&whole[..whole.len() / 2]), Some(Refusal::Truncated));
        assert_eq!(refused(&whole[..whole.len() - 2]), Some(Refusal::Truncated));
        assert!(clean(&whole).is_ok());
    }

    #[test]
    fn a_png_declaring_huge_dimensions_is_refused_before_it_is_decoded() {
        let mut header = PNG_SIGNATURE.to_vec();
        let mut ihdr = b"IHDR".to_vec();
        ihdr.extend(20_000u32.to_be_bytes());
        ihdr.extend(20_000u32.to_be_bytes());
        ihdr.extend([8, 2, 0, 0, 0]);
        header.extend(13u32.to_be_bytes());
        header.extend(&ihdr);
        header.extend(crc32(&ihdr).to_be_bytes());
        assert_eq!(refused(&header), Some(Refusal::TooManyPixels));
    }

    #[test]
    fn what_is_not_a_picture_is_refused() {
        assert_eq!(refused(b"%PDF-1.7"), Some(Refusal::NotAnImage));
        assert_eq!(refused(b"GIF89a\x01\0\x01\0"), Some(Refusal::NotAnImage));
        let mut fake = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10];
        fake.extend(b"<html><script>alert(1)</script></html>");
        assert_eq!(refused(&fake), Some(Refusal::Damaged), "a page behind a JPEG header");
        assert_eq!(refused(&vec![0xFF; MAX_PHOTO_BYTES + 1]), Some(Refusal::TooLarge));
    }

    const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];

    fn crc32(bytes: &[u8]) -> u32 {
        let mut c = 0xFFFF_FFFFu32;
        for b in bytes {
            c ^= u32::from(*b);
            for _ in 0..8 {
                c = if c & 1 == 1 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
            }
        }
        !c
    }
}
