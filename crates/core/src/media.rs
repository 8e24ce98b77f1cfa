//! Photos: recognised by their content, never by their name, and stripped of metadata (location included)
//! before they are kept.

/// Largest photo accepted, in bytes.
pub const MAX_PHOTO_BYTES: usize = 10 * 1024 * 1024;

/// The image types Wujia keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageType {
    /// JPEG.
    Jpeg,
    /// PNG.
    Png,
    /// WebP.
    Webp,
}

impl ImageType {
    /// The MIME type.
    pub fn mime(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Webp => "image/webp",
        }
    }
}

/// Why a photo was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhotoError {
    /// Over [`MAX_PHOTO_BYTES`].
    #[error("照片不能超过 10 MB / a photo may be at most 10 MB")]
    TooLarge,
    /// Not JPEG, PNG or WebP.
    #[error("只接受 JPEG、PNG 或 WebP 照片 / only JPEG, PNG or WebP photos are accepted")]
    NotAnImage,
    /// The file claims a type but its structure is broken.
    #[error("照片文件已损坏 / the photo is damaged")]
    Damaged,
}

/// Recognises an image by its first bytes.
pub fn sniff(bytes: &[u8]) -> Option<ImageType> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(ImageType::Jpeg)
    } else if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some(ImageType::Png)
    } else if bytes.len() > 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some(ImageType::Webp)
    } else {
        None
    }
}

/// Checks a photo and returns it without metadata: JPEG APP1–APP15 and comment segments, PNG text and EXIF chunks,
/// WebP EXIF and XMP chunks are removed; the picture itself is untouched.
pub fn clean_photo(bytes: &[u8]) -> Result<(ImageType, Vec<u8>), PhotoError> {
    if bytes.len() > MAX_PHOTO_BYTES {
        return Err(PhotoError::TooLarge);
    }
    let kind = sniff(bytes).ok_or(PhotoError::NotAnImage)?;
    let cleaned = match kind {
        ImageType::Jpeg => strip_jpeg(bytes),
        ImageType::Png => strip_png(bytes),
        ImageType::Webp => strip_webp(bytes),
    }
    .ok_or(PhotoError::Damaged)?;
    Ok((kind, cleaned))
}

fn strip_jpeg(b: &[u8]) -> Option<Vec<u8>> {
    let mut out = vec![0xFF, 0xD8];
    let mut i = 2;
    loop {
        if i + 4 > b.len() || b[i] != 0xFF {
            return None;
        }
        let marker = b[i + 1];
        // Start of scan: the compressed picture follows to the end.
        if marker == 0xDA {
            out.extend_from_slice(&b[i..]);
            return Some(out);
        }
        let len = usize::from(u16::from_be_bytes([b[i + 2], b[i + 3]]));
        if len < 2 || i + 2 + len > b.len() {
            return None;
        }
        let metadata = (0xE1..=0xEF).contains(&marker) || marker == 0xFE;
        if !metadata {
            out.extend_from_slice(&b[i..i + 2 + len]);
        }
        i += 2 + len;
    }
}

fn strip_png(b: &[u8]) -> Option<Vec<u8>> {
    let mut out = b[..8].to_vec();
    let mut i = 8;
    while i + 12 <= b.len() {
        let len = u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]) as usize;
        let end = i.checked_add(12)?.checked_add(len)?;
        if end > b.len() {
            return None;
        }
        let kind = &b[i + 4..i + 8];
        if !matches!(kind, b"eXIf" | b"tEXt" | b"iTXt" | b"zTXt" | b"tIME") {
            out.extend_from_slice(&b[i..end]);
        }
        if kind == b"IEND" {
            return Some(out);
        }
        i = end;
    }
    None
}

fn strip_webp(b: &[u8]) -> Option<Vec<u8>> {
    let mut chunks = Vec::new();
    let mut i = 12;
    while i + 8 <= b.len() {
        let len = u32::from_le_bytes([b[i + 4], b[i + 5], b[i + 6], b[i + 7]]) as usize;
        let padded = len + (len & 1);
        let end = i.checked_add(8)?.checked_add(padded)?.min(b.len());
        if i + 8 + len > b.len() {
            return None;
        }
        if !matches!(&b[i..i + 4], b"EXIF" | b"XMP ") {
            chunks.extend_from_slice(&b[i..end]);
        }
        i = end;
    }
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&((chunks.len() + 4) as u32).to_le_bytes());
    out.extend_from_slice(b"WEBP");
    out.extend(chunks);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg_with_exif() -> Vec<u8> {
        let mut b = vec![0xFF, 0xD8];
        b.extend([0xFF, 0xE0, 0x00, 0x06, b'J', b'F', b'I', b'F']); // APP0 JFIF (kept)
        b.extend([0xFF, 0xE1, 0x00, 0x0A, b'E', b'x', b'i', b'f', 0, 0, b'G', b'P']); // APP1 Exif with "GPS"
        b.extend([0xFF, 0xDB, 0x00, 0x04, 0x01, 0x02]); // a quantisation table (kept)
        b.extend([0xFF, 0xDA, 0x00, 0x02, 0x11, 0x22, 0xFF, 0xD9]); // scan and end
        b
    }

    #[test]
    fn jpeg_metadata_is_removed_and_the_picture_kept() {
        let (kind, clean) = clean_photo(&jpeg_with_exif()).unwrap();
        assert_eq!(kind, ImageType::Jpeg);
        assert!(!clean.windows(4).any(|w| w == b"Exif"));
        assert!(clean.windows(4).any(|w| w == b"JFIF"));
        assert!(clean.ends_with(&[0xFF, 0xDA, 0x00, 0x02, 0x11, 0x22, 0xFF, 0xD9]));
    }

    #[test]
    fn png_text_and_exif_chunks_are_removed() {
        let chunk = |kind: &[u8], data: &[u8]| {
            let mut c = (data.len() as u32).to_be_bytes().to_vec();
            c.extend(kind);
            c.extend(data);
            c.extend([0, 0, 0, 0]);
            c
        };
        let mut png = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
        png.extend(chunk(b"IHDR", &[0; 13]));
        png.extend(chunk(b"eXIf", b"GPS here"));
        png.extend(chunk(b"IDAT", &[1, 2, 3]));
        png.extend(chunk(b"IEND", &[]));
        let (kind, clean) = clean_photo(&png).unwrap();
        assert_eq!(kind, ImageType::Png);
        assert!(!clean.windows(4).any(|w| w == b"eXIf"));
        assert!(clean.windows(4).any(|w| w == b"IDAT"));
    }

    #[test]
    fn anything_else_is_refused() {
        assert_eq!(clean_photo(b"%PDF-1.7"), Err(PhotoError::NotAnImage));
        assert_eq!(clean_photo(&[0xFF, 0xD8, 0xFF, 0x00]), Err(PhotoError::Damaged));
        assert_eq!(clean_photo(&vec![0xFF; MAX_PHOTO_BYTES + 1]), Err(PhotoError::TooLarge));
    }
}

/// A plain picture for demo records: a `width`×`height` PNG of horizontal bands in `colours`, uncompressed (a
/// stored deflate block), so that demo photos display without an image library.
pub fn banded_png(width: u16, height: u16, colours: &[[u8; 3]]) -> Vec<u8> {
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
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend((data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        out.extend(&body);
        out.extend(crc32(&body).to_be_bytes());
    }
    let (w, h) = (usize::from(width.max(1)), usize::from(height.max(1)));
    let bands = colours.len().max(1);
    let mut raw = Vec::with_capacity(h * (1 + 3 * w));
    for y in 0..h {
        raw.push(0); // filter: none
        let c = colours.get(y * bands / h).copied().unwrap_or([128, 128, 128]);
        for _ in 0..w {
            raw.extend(c);
        }
    }
    // zlib stream of stored blocks (at most 65,535 bytes each) and the Adler-32 of the raw data.
    let mut z = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = raw.chunks(65_535).collect();
    for (i, block) in blocks.iter().enumerate() {
        z.push(u8::from(i + 1 == blocks.len()));
        let len = block.len() as u16;
        z.extend(len.to_le_bytes());
        z.extend((!len).to_le_bytes());
        z.extend_from_slice(block);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for byte in &raw {
        a = (a + u32::from(*byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    z.extend(((b << 16) | a).to_be_bytes());
    let mut png = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    let mut ihdr = (w as u32).to_be_bytes().to_vec();
    ihdr.extend((h as u32).to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]); // 8-bit RGB, no interlace
    chunk(&mut png, b"IHDR", &ihdr);
    chunk(&mut png, b"IDAT", &z);
    chunk(&mut png, b"IEND", &[]);
    png
}

#[cfg(test)]
mod banded_tests {
    use super::*;

    #[test]
    fn a_banded_png_is_a_png_that_passes_the_photo_check() {
        let png = banded_png(160, 120, &[[200, 200, 190], [120, 130, 140]]);
        let (kind, clean) = clean_photo(&png).unwrap();
        assert_eq!(kind, ImageType::Png);
        assert_eq!(clean, png, "nothing to strip");
        // The known CRC of an empty IEND chunk.
        assert!(png.ends_with(&[0xAE, 0x42, 0x60, 0x82]));
    }
}
