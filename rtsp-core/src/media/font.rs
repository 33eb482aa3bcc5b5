//! A tiny 5x7 bitmap font and an RGB canvas, enough to stamp frame numbers and time codes on
//! the test pattern without a font dependency.

/// Glyph cell width in font pixels (5 columns plus 1 of spacing).
pub(crate) const CELL_W: usize = 6;
/// Glyph cell height in font pixels (7 rows plus 1 of spacing).
pub(crate) const CELL_H: usize = 8;

/// Rows of a glyph, top to bottom; bit 4 is the leftmost column.
fn glyph(c: char) -> [u8; 7] {
    match c {
        '0' => [0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E],
        '1' => [0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E],
        '2' => [0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F],
        '3' => [0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E],
        '4' => [0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02],
        '5' => [0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E],
        '6' => [0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E],
        '7' => [0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
        '8' => [0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E],
        '9' => [0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C],
        ':' => [0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00],
        '.' => [0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C],
        '-' => [0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00],
        'A' => [0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11],
        'E' => [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F],
        'F' => [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10],
        'M' => [0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11],
        'R' => [0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11],
        // A visible box, so a missing glyph is noticed rather than silently blank.
        ' ' => [0; 7],
        _ => [0x1F, 0x11, 0x11, 0x11, 0x11, 0x11, 0x1F],
    }
}

/// An RGB image being drawn; every drawing call clips to the image.
pub(crate) struct Canvas {
    width: usize,
    height: usize,
    pixels: Vec<u8>,
}

impl Canvas {
    pub(crate) fn new(width: usize, height: usize) -> Self {
        Self {
            width,
            height,
            pixels: vec![0; width * height * 3],
        }
    }

    pub(crate) fn width(&self) -> usize {
        self.width
    }

    pub(crate) fn height(&self) -> usize {
        self.height
    }

    pub(crate) fn into_pixels(self) -> Vec<u8> {
        self.pixels
    }

    /// Fills the rectangle `[x, x+w) x [y, y+h)`, clipped to the canvas.
    pub(crate) fn fill_rect(&mut self, x: usize, y: usize, w: usize, h: usize, rgb: [u8; 3]) {
        let x_end = x.saturating_add(w).min(self.width);
        let y_end = y.saturating_add(h).min(self.height);
        for row in y..y_end {
            let start = (row * self.width + x) * 3;
            let end = (row * self.width + x_end) * 3;
            if let Some(line) = self.pixels.get_mut(start..end) {
                for px in line.chunks_exact_mut(3) {
                    px.copy_from_slice(&rgb);
                }
            }
        }
    }

    /// Draws `text` with its top-left corner at (x, y), each font pixel a `scale` square.
    pub(crate) fn draw_text(&mut self, x: usize, y: usize, scale: usize, text: &str, rgb: [u8; 3]) {
        for (i, c) in text.chars().enumerate() {
            let cx = x + i * CELL_W * scale;
            for (row, bits) in glyph(c).iter().enumerate() {
                for col in 0..5 {
                    if bits & (0x10 >> col) != 0 {
                        self.fill_rect(cx + col * scale, y + row * scale, scale, scale, rgb);
                    }
                }
            }
        }
    }
}

/// Width in image pixels of `chars` characters at `scale`.
pub(crate) fn text_width(chars: usize, scale: usize) -> usize {
    chars * CELL_W * scale
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_are_distinct_and_drawn_where_asked() {
        let all: Vec<[u8; 7]> = "0123456789:.-AEFMR".chars().map(glyph).collect();
        for (i, a) in all.iter().enumerate() {
            for b in &all[i + 1..] {
                assert_ne!(a, b);
            }
        }
        let mut c = Canvas::new(20, 10);
        c.draw_text(1, 1, 1, "1", [255, 255, 255]);
        let px = c.into_pixels();
        let at = |x: usize, y: usize| px[(y * 20 + x) * 3];
        // '1' row 0 is 0x04: only column 2 lit.
        assert_eq!(at(1 + 2, 1), 255);
        assert_eq!(at(1 + 1, 1), 0);
        // Row 6 is 0x0E: columns 1..=3.
        assert_eq!(at(1 + 1, 7), 255);
        assert_eq!(at(1 + 4, 7), 0);
    }

    #[test]
    fn drawing_clips_instead_of_panicking() {
        let mut c = Canvas::new(8, 8);
        c.draw_text(5, 5, 3, "88", [1, 2, 3]);
        c.fill_rect(7, 7, usize::MAX, usize::MAX, [9, 9, 9]);
        c.fill_rect(100, 100, 5, 5, [9, 9, 9]);
        let px = c.into_pixels();
        assert_eq!(&px[(7 * 8 + 7) * 3..], &[9, 9, 9]);
    }
}
