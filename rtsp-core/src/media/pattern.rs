//! A synthetic video source: colour bars, moving shapes and burnt-in frame numbers.

use jpeg_encoder::{ColorType, Encoder, SamplingFactor};

use super::error::MediaError;
use super::file::{MjpegFile, MjpegFormat, OpenOptions};
use super::font::{text_width, Canvas, CELL_H};
use crate::jpeg::ParsedJpeg;

/// 75 % colour bars (white, yellow, cyan, green, magenta, red, blue).
const BARS: [[u8; 3]; 7] = [
    [191, 191, 191],
    [191, 191, 0],
    [0, 191, 191],
    [0, 191, 0],
    [191, 0, 191],
    [191, 0, 0],
    [0, 0, 191],
];
const BLACK: [u8; 3] = [0, 0, 0];
const WHITE: [u8; 3] = [255, 255, 255];
const PANEL: [u8; 3] = [24, 24, 24];
/// Characters in the widest text line ("FRAME 00000" and "00:00:00.00" are both 11).
const TEXT_CHARS: usize = 11;

/// Generates deterministic baseline JPEG frames that make motion and frame order visible.
///
/// Frame `n` shows colour bars, a box bouncing over them, a sweep line, and the frame number
/// and time code (`hh:mm:ss.ff`, `ff` = frame within the second) in large digits. The JPEGs
/// are baseline, 4:2:0, with the standard (JPEG Annex K) Huffman tables, which is what
/// RFC 2435 can carry. The same `n` always gives the same bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct TestPattern {
    width: u16,
    height: u16,
    fps: f64,
    quality: u8,
}

impl TestPattern {
    /// Default JPEG quality: a 640x480 frame is about 15 KB, far below the lab format's
    /// 99 999-byte limit.
    pub const DEFAULT_QUALITY: u8 = 75;

    /// A pattern of `width` x `height` pixels (multiples of 16 avoid partial 4:2:0 blocks)
    /// for playback at `fps` frames per second.
    pub fn new(width: u16, height: u16, fps: f64) -> Result<Self, MediaError> {
        if width < 16 || height < 16 {
            return Err(MediaError::InvalidPattern(
                "width and height must be at least 16",
            ));
        }
        if !(fps.is_finite() && fps > 0.0 && fps <= 1000.0) {
            return Err(MediaError::InvalidPattern(
                "fps must be a number in (0, 1000]",
            ));
        }
        Ok(Self {
            width,
            height,
            fps,
            quality: Self::DEFAULT_QUALITY,
        })
    }

    /// Sets the JPEG quality (1-100; values outside are clamped).
    pub fn with_quality(mut self, quality: u8) -> Self {
        self.quality = quality.clamp(1, 100);
        self
    }

    /// Frame width in pixels.
    pub fn width(&self) -> u16 {
        self.width
    }

    /// Frame height in pixels.
    pub fn height(&self) -> u16 {
        self.height
    }

    /// Frame rate the time codes assume.
    pub fn fps(&self) -> f64 {
        self.fps
    }

    /// The time code burnt into frame `n`: `hh:mm:ss.ff`, where `ff` counts frames within
    /// the second.
    pub fn time_code(&self, n: u64) -> String {
        let t = n as f64 / self.fps;
        let secs = t.floor();
        // First frame of this second; the epsilon absorbs the rounding of secs * fps.
        let first = (secs * self.fps - 1e-6).ceil().max(0.0) as u64;
        let ff = n.saturating_sub(first);
        let secs = secs as u64;
        format!(
            "{:02}:{:02}:{:02}.{:02}",
            secs / 3600,
            secs / 60 % 60,
            secs % 60,
            ff
        )
    }

    /// The RGB pixels (row-major, 3 bytes per pixel) of frame `n`.
    pub fn render_rgb(&self, n: u64) -> Vec<u8> {
        let w = usize::from(self.width);
        let h = usize::from(self.height);
        let mut canvas = Canvas::new(w, h);

        let bars_h = snap(h * 3 / 5);
        for (i, colour) in BARS.iter().enumerate() {
            let x0 = snap(w * i / BARS.len());
            let x1 = if i + 1 == BARS.len() {
                w
            } else {
                snap(w * (i + 1) / BARS.len())
            };
            canvas.fill_rect(x0, 0, x1.saturating_sub(x0), bars_h, *colour);
        }

        // A sweep band under the bars: one white line crossing it every 4 seconds.
        let sweep_h = snap(h / 16).max(2);
        canvas.fill_rect(0, bars_h, w, sweep_h, BLACK);
        let period = (self.fps * 4.0).round().max(1.0) as u64;
        let sweep_x = snap((n % period) as usize * w / period as usize);
        canvas.fill_rect(sweep_x, bars_h, (w / 80).max(2), sweep_h, WHITE);

        // A box bouncing over the bars with different horizontal and vertical periods.
        let side = snap(h / 6).max(4);
        let bx = snap(triangle(n, 80, w.saturating_sub(side)));
        let by = snap(triangle(n, 56, bars_h.saturating_sub(side)));
        canvas.fill_rect(bx, by, side, side, BLACK);
        let inset = (side / 8).clamp(1, 8);
        canvas.fill_rect(
            bx + inset,
            by + inset,
            side.saturating_sub(2 * inset),
            side.saturating_sub(2 * inset),
            WHITE,
        );

        let panel_y = bars_h + sweep_h;
        let panel_h = h.saturating_sub(panel_y);
        canvas.fill_rect(0, panel_y, w, panel_h, PANEL);
        self.draw_labels(&mut canvas, n, panel_y, panel_h);
        canvas.into_pixels()
    }

    fn draw_labels(&self, canvas: &mut Canvas, n: u64, panel_y: usize, panel_h: usize) {
        let w = canvas.width();
        let margin = (w / 40).max(1);
        let scale_w = w.saturating_sub(2 * margin) / text_width(TEXT_CHARS, 1);
        let scale_h = panel_h / (2 * CELL_H + 1);
        let mut scale = scale_w.min(scale_h).max(1);
        if scale >= BLOCK {
            // One font pixel per DCT block: flat blocks cost almost nothing to encode.
            scale -= scale % BLOCK;
        }
        let line_h = CELL_H * scale;
        let x = snap(w.saturating_sub(text_width(TEXT_CHARS, scale)) / 2);
        let y = snap(panel_y + panel_h.saturating_sub(2 * line_h) / 2 + scale);
        if y >= canvas.height() {
            return;
        }
        canvas.draw_text(x, y, scale, &format!("FRAME {n:05}"), WHITE);
        canvas.draw_text(x, y + line_h, scale, &self.time_code(n), WHITE);
    }

    /// Frame `n` as a baseline 4:2:0 JPEG.
    ///
    /// FFmpeg's MJPEG decoder (5.x) looks for the EOI after a scan by advancing over the
    /// scan's de-stuffed length plus the EOI's own `0xFF`, which it also reads. Each stuffed
    /// `0xFF 0x00` in the scan gives it one byte of slack; a scan with none makes it step over
    /// the EOI and warn "EOI missing, emulating" (its own encoder's output does the same). Flat
    /// frames can come out that way, so such a frame is encoded again with the top-left 8x8
    /// block a shade nearer to grey each time: a change of the first DC coefficient shifts the bit
    /// alignment of the whole scan, which in practice brings a `0xFF` byte after one or two
    /// tries.
    pub fn frame(&self, n: u64) -> Result<Vec<u8>, MediaError> {
        let mut rgb = self.render_rgb(n);
        let mut jpeg = self.encode(&rgb)?;
        for _ in 0..MAX_RESHADES {
            if scan_has_stuffed_byte(&jpeg) {
                break;
            }
            self.darken_corner_block(&mut rgb);
            jpeg = self.encode(&rgb)?;
        }
        Ok(jpeg)
    }

    fn encode(&self, rgb: &[u8]) -> Result<Vec<u8>, MediaError> {
        let mut jpeg = Vec::with_capacity(32 * 1024);
        let mut encoder = Encoder::new(&mut jpeg, self.quality);
        encoder.set_sampling_factor(SamplingFactor::F_2_2);
        // Optimized tables would break RFC 2435 receivers, which assume the Annex K ones.
        encoder.set_optimized_huffman_tables(false);
        encoder.set_progressive(false);
        encoder
            .encode(rgb, self.width, self.height, ColorType::Rgb)
            .map_err(|e| MediaError::Encode(e.to_string()))?;
        Ok(jpeg)
    }

    /// Moves every channel of the top-left 8x8 pixels a few levels towards mid-grey (see
    /// [`Self::frame`]).
    fn darken_corner_block(&self, rgb: &mut [u8]) {
        let w = usize::from(self.width);
        let rows = BLOCK.min(usize::from(self.height));
        for row in rgb.chunks_mut(3 * w).take(rows) {
            for v in row.iter_mut().take(3 * BLOCK) {
                *v = if *v >= 128 {
                    v.saturating_sub(RESHADE_STEP)
                } else {
                    v.saturating_add(RESHADE_STEP)
                };
            }
        }
    }

    /// Renders frames `0..count` into an in-memory [`MjpegFile`], so a synthetic source can
    /// be served like a file.
    pub fn generate(&self, count: usize) -> Result<MjpegFile, MediaError> {
        let mut data = Vec::new();
        for n in 0..count {
            data.extend(self.frame(n as u64)?);
        }
        OpenOptions::new().format(MjpegFormat::Raw).open_bytes(data)
    }
}

/// How often [`TestPattern::frame`] re-encodes a frame whose scan holds no `0xFF`.
const MAX_RESHADES: usize = 8;
/// How far the corner block moves towards grey per try: enough to move its quantized DC.
const RESHADE_STEP: u8 = 6;

/// Whether the entropy-coded data of the scan holds a (stuffed) `0xFF` byte. A frame the parser
/// refuses counts as yes, so that the caller never retries on it.
fn scan_has_stuffed_byte(jpeg: &[u8]) -> bool {
    ParsedJpeg::parse(jpeg).map_or(true, |parsed| parsed.scan_data().contains(&0xFF))
}

/// Luma DCT block size.
const BLOCK: usize = 8;

/// Rounds down to a 16-pixel (4:2:0 MCU) boundary, when that leaves something.
///
/// Edges on MCU boundaries keep blocks flat, which is most of what keeps a 640x480 frame
/// around 10 KB at quality 75.
fn snap(v: usize) -> usize {
    if v >= 16 {
        v - v % 16
    } else {
        v
    }
}

/// A triangle wave over `0..=span` with the given period in frames.
fn triangle(n: u64, period: u64, span: usize) -> usize {
    let half = period / 2;
    if half == 0 {
        return 0;
    }
    let phase = n % period;
    let up = if phase < half { phase } else { period - phase };
    (up as usize * span) / half as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_codes() {
        let p = TestPattern::new(64, 48, 20.0).unwrap();
        assert_eq!(p.time_code(0), "00:00:00.00");
        assert_eq!(p.time_code(19), "00:00:00.19");
        assert_eq!(p.time_code(20), "00:00:01.00");
        assert_eq!(p.time_code(20 * 3661 + 7), "01:01:01.07");
        let ntsc = TestPattern::new(64, 48, 30000.0 / 1001.0).unwrap();
        assert_eq!(ntsc.time_code(29), "00:00:00.29");
        assert_eq!(ntsc.time_code(30), "00:00:01.00");
        assert_eq!(ntsc.time_code(60), "00:00:02.00");
    }

    #[test]
    fn triangle_bounces() {
        assert_eq!(triangle(0, 80, 100), 0);
        assert_eq!(triangle(40, 80, 100), 100);
        assert_eq!(triangle(20, 80, 100), 50);
        assert_eq!(triangle(60, 80, 100), 50);
        assert_eq!(triangle(80, 80, 100), 0);
    }

    #[test]
    fn rejects_bad_parameters() {
        assert!(TestPattern::new(8, 480, 20.0).is_err());
        assert!(TestPattern::new(640, 480, 0.0).is_err());
        assert!(TestPattern::new(640, 480, f64::NAN).is_err());
    }

    #[test]
    fn every_scan_holds_a_stuffed_byte() {
        // Frame 0 of the default pattern is the flat one whose first encoding has no 0xFF.
        let p = TestPattern::new(640, 480, 20.0).unwrap();
        assert!(!scan_has_stuffed_byte(&p.encode(&p.render_rgb(0)).unwrap()));
        for n in 0..3 {
            assert!(scan_has_stuffed_byte(&p.frame(n).unwrap()), "frame {n}");
        }
    }

    #[test]
    fn tiny_pattern_renders() {
        let p = TestPattern::new(16, 16, 1.0).unwrap();
        assert_eq!(p.render_rgb(3).len(), 16 * 16 * 3);
        assert!(p.frame(3).unwrap().starts_with(&[0xFF, 0xD8]));
    }
}
