//! Re-encoding arbitrary images into JPEGs that RFC 2435 can carry.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageReader, Limits};
use jpeg_encoder::{ChromaSubsamplingMethod, ColorType, Encoder, SamplingFactor};

use super::MAX_DIMENSION;

/// Decoded images larger than this many pixels per side are refused before decoding.
const MAX_INPUT_DIMENSION: u32 = 16_384;
/// Memory the decoder may use.
const MAX_DECODE_ALLOC: u64 = 512 << 20;

/// Why [`reencode_for_rtp`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReencodeError {
    /// The input is not an image the `image` crate can decode (or exceeds the decoding limits).
    #[error("cannot decode the image: {0}")]
    Decode(#[from] image::ImageError),
    /// Reading the input failed (format detection).
    #[error("cannot read the image: {0}")]
    Io(#[from] std::io::Error),
    /// The JPEG encoder failed.
    #[error("cannot encode the JPEG: {0}")]
    Encode(#[from] jpeg_encoder::EncodingError),
}

/// Re-encodes any image (JPEG of any kind, PNG) into a JPEG that RFC 2435 can carry.
///
/// The output is a baseline JPEG, YCbCr 4:2:0, with the standard Annex K.3 Huffman tables,
/// `quality` (clamped to 1..=100) on the usual IJG scale, and dimensions from [`rtp_dimensions`]:
/// unchanged when they already fit; otherwise scaled down to fit 2040x2040 keeping the aspect
/// ratio and rounded to multiples of 8, which may change the aspect ratio by up to 4 pixels per
/// side. The EXIF orientation is applied; alpha is dropped; metadata is not copied.
///
/// # Errors
/// [`ReencodeError`] if the input cannot be decoded (unknown format, corrupt, more than 16384
/// pixels per side or 512 MiB of decoder memory) or encoded.
pub fn reencode_for_rtp(image_bytes: &[u8], quality: u8) -> Result<Vec<u8>, ReencodeError> {
    let mut reader = ImageReader::new(Cursor::new(image_bytes)).with_guessed_format()?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_INPUT_DIMENSION);
    limits.max_image_height = Some(MAX_INPUT_DIMENSION);
    limits.max_alloc = Some(MAX_DECODE_ALLOC);
    reader.limits(limits);
    let mut decoder = reader.into_decoder()?;
    let orientation = decoder.orientation()?;
    let mut image = DynamicImage::from_decoder(decoder)?;
    image.apply_orientation(orientation);

    let (width, height) = rtp_dimensions(image.width(), image.height());
    if (u32::from(width), u32::from(height)) != (image.width(), image.height()) {
        image = image.resize_exact(
            u32::from(width),
            u32::from(height),
            image::imageops::FilterType::CatmullRom,
        );
    }
    let rgb = image.to_rgb8();

    let mut out = Vec::new();
    let mut encoder = Encoder::new(&mut out, quality.clamp(1, 100));
    // The encoder picks 4:4:4 at high quality by default; RFC 2435 needs 4:2:0 or 4:2:2. Its
    // default Huffman tables are the standard ones; optimized tables must stay off.
    encoder.set_sampling_factor(SamplingFactor::F_2_2);
    // Averaging keeps chroma faithful; the default takes one pixel of each 2x2 block.
    encoder.set_chroma_subsampling_method(ChromaSubsamplingMethod::Average);
    encoder.set_optimized_huffman_tables(false);
    encoder.set_progressive(false);
    encoder.encode(rgb.as_raw(), width, height, ColorType::Rgb)?;
    Ok(out)
}

/// The size [`reencode_for_rtp`] gives an image of `width` x `height`: unchanged when both are
/// multiples of 8 up to 2040; otherwise scaled to fit 2040x2040 keeping the aspect ratio, then each
/// side rounded to the nearest multiple of 8 (at least 8).
pub fn rtp_dimensions(width: u32, height: u32) -> (u16, u16) {
    let max = f64::from(MAX_DIMENSION);
    let (w, h) = (f64::from(width.max(1)), f64::from(height.max(1)));
    let scale = (max / w).min(max / h).min(1.0);
    let round8 = |v: f64| {
        let blocks = (v * scale / 8.0).round().clamp(1.0, max / 8.0);
        // Clamped to 1..=255 blocks, so the cast is exact.
        blocks as u16 * 8
    };
    (round8(w), round8(h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dimensions_that_fit_are_kept() {
        assert_eq!(rtp_dimensions(320, 240), (320, 240));
        assert_eq!(rtp_dimensions(2040, 2040), (2040, 2040));
        assert_eq!(rtp_dimensions(8, 8), (8, 8));
    }

    #[test]
    fn odd_dimensions_round_to_multiples_of_8() {
        assert_eq!(rtp_dimensions(641, 479), (640, 480));
        assert_eq!(rtp_dimensions(1366, 768), (1368, 768));
        assert_eq!(rtp_dimensions(1, 1), (8, 8));
    }

    #[test]
    fn large_images_scale_down_keeping_aspect() {
        assert_eq!(rtp_dimensions(4080, 2040), (2040, 1024)); // 1020 rounds to 1024
        assert_eq!(rtp_dimensions(3000, 2000), (2040, 1360));
        assert_eq!(rtp_dimensions(1920 * 2, 1080 * 2), (2040, 1144)); // 1147.5
        assert_eq!(rtp_dimensions(100_000, 10), (2040, 8));
    }
}
