//! Walking entropy-coded data: finding where a scan ends.
//!
//! Inside a scan, `0xFF` is always followed by `0x00` (byte stuffing) or by a restart marker
//! `RST0..RST7`; any other marker ends the scan. Both the parser (to cut the scan out of a file)
//! and the depacketizer (to refuse reassembled data that would not decode) use this, so a frame the
//! depacketizer emits always parses again.

/// Where a scan stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ScanEnd {
    /// Index of the first byte after the entropy-coded data (the first `0xFF` of the marker,
    /// fill bytes included).
    pub data_end: usize,
    /// The marker code that ends the scan (e.g. `0xD9` for EOI).
    pub marker: u8,
    /// Index just past the marker code.
    pub after_marker: usize,
}

/// Scans `data[from..]` for the marker that ends the entropy-coded segment.
///
/// Returns `None` if the data ends first (no terminating marker). `from` must not point into the
/// middle of a marker (after an `0xFF` whose successor decides what it is).
pub(crate) fn find_scan_end(data: &[u8], from: usize) -> Option<ScanEnd> {
    match scan(data, from, true) {
        Progress::End(end) => Some(end),
        Progress::NeedMore { .. } => None,
    }
}

/// Outcome of [`scan`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Progress {
    /// A marker ends the scan.
    End(ScanEnd),
    /// No marker so far; when more data is appended, scanning must resume at `resume`.
    NeedMore {
        /// Where to resume (never inside a marker).
        resume: usize,
    },
}

/// Scans `data[from..]` like [`find_scan_end`]. With `whole == false` it may stop before the last
/// partial block, to be resumed once more data has been appended: this is how the depacketizer
/// checks each fragment as it arrives without rescanning the frame.
pub(crate) fn scan(data: &[u8], from: usize, whole: bool) -> Progress {
    let Some(hay) = data.get(from..) else {
        return Progress::NeedMore { resume: from };
    };
    // Candidates below this position were consumed by an earlier look-ahead.
    let mut skip_until = from;
    let mut visit = |mut mask: u64, base: usize| -> Option<Progress> {
        while mask != 0 {
            let at = base + mask.trailing_zeros() as usize;
            mask &= mask - 1;
            if at < skip_until {
                continue;
            }
            match classify(data, at) {
                Some(Step::Continue { resume }) => skip_until = resume,
                Some(Step::End(end)) => return Some(Progress::End(end)),
                None => return Some(Progress::NeedMore { resume: at }),
            }
        }
        None
    };
    let mut blocks = hay.chunks_exact(BLOCK);
    let mut base = from;
    for block in &mut blocks {
        if let Some(progress) = visit(candidates(block), base) {
            return progress;
        }
        base += BLOCK;
    }
    let rest = blocks.remainder();
    if !whole {
        return Progress::NeedMore {
            resume: base.max(skip_until),
        };
    }
    // The last partial block, zero-padded so that it takes the same path. A 0xFF just before the
    // padding looks stuffed, so it is flagged by hand.
    let mut padded = [0u8; BLOCK];
    padded
        .get_mut(..rest.len())
        .unwrap_or_default()
        .copy_from_slice(rest);
    let mut mask = candidates(&padded);
    if let Some(last) = rest.len().checked_sub(1) {
        if rest.get(last) == Some(&0xFF) {
            mask |= 1 << last;
        }
    }
    visit(mask, base).unwrap_or(Progress::NeedMore {
        resume: data.len().max(skip_until),
    })
}

/// What follows the `0xFF` at a candidate position.
enum Step {
    /// Stuffing, a restart marker, or fill bytes before one: the scan goes on at `resume`.
    Continue { resume: usize },
    /// A marker that ends the scan.
    End(ScanEnd),
}

/// Classifies the `0xFF` at `at`; `None` if the data ends before that is decided.
fn classify(data: &[u8], at: usize) -> Option<Step> {
    // A run of 0xFF is fill before a marker; its first byte ends the data.
    let mut next = at + 1;
    while *data.get(next)? == 0xFF {
        next += 1;
    }
    Some(match *data.get(next)? {
        0x00 | 0xD0..=0xD7 => Step::Continue { resume: next + 1 },
        marker => Step::End(ScanEnd {
            data_end: at,
            marker,
            after_marker: next + 1,
        }),
    })
}

/// Bytes examined per step of [`find_scan_end`].
const BLOCK: usize = 64;

/// Positions in a [`BLOCK`]-byte block that may start a marker: every `0xFF` except those
/// followed by `0x00` within the block (byte stuffing, by far the most common case in a scan,
/// which would otherwise cost a branch each). The block's last byte is always a candidate if it
/// is `0xFF`, since its successor lies outside.
fn candidates(block: &[u8]) -> u64 {
    let (ff, zero) = byte_masks(block);
    ff & !(zero >> 1)
}

/// Bit i of the first mask is set iff `block[i] == 0xFF`, of the second iff `block[i] == 0`;
/// both are 0 when the block holds no `0xFF` at all.
///
/// Scans are megabytes long and are walked when parsing and when depacketizing, so this is the
/// hot loop: SSE2 (part of the x86_64 baseline) tests 16 bytes per instruction, and most blocks
/// are dismissed after a single combined test.
#[cfg(target_arch = "x86_64")]
fn byte_masks(block: &[u8]) -> (u64, u64) {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
        _mm_setzero_si128,
    };
    let Ok(block) = <&[u8; BLOCK]>::try_from(block) else {
        return byte_masks_portable(block);
    };
    let load = |lane: &[u8]| {
        debug_assert_eq!(lane.len(), 16);
        // SAFETY: SSE2 is always available on x86_64. Every `lane` below is a 16-byte
        // subslice of `block`, and `_mm_loadu_si128` reads 16 bytes with no alignment
        // requirement.
        unsafe { _mm_loadu_si128(lane.as_ptr().cast::<__m128i>()) }
    };
    let v = [
        load(&block[0..16]),
        load(&block[16..32]),
        load(&block[32..48]),
        load(&block[48..64]),
    ];
    // SAFETY: SSE2 is always available on x86_64; these intrinsics only compute on registers.
    unsafe {
        let ones = _mm_set1_epi8(-1);
        let e = v.map(|x| _mm_cmpeq_epi8(x, ones));
        let any = _mm_or_si128(_mm_or_si128(e[0], e[1]), _mm_or_si128(e[2], e[3]));
        if _mm_movemask_epi8(any) == 0 {
            return (0, 0);
        }
        let zero = _mm_setzero_si128();
        let (mut ff, mut zeros) = (0u64, 0u64);
        for (i, (x, eq)) in v.iter().zip(e).enumerate() {
            // movemask sets only the low 16 bits.
            ff |= u64::from(_mm_movemask_epi8(eq) as u16) << (16 * i);
            zeros |= u64::from(_mm_movemask_epi8(_mm_cmpeq_epi8(*x, zero)) as u16) << (16 * i);
        }
        (ff, zeros)
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn byte_masks(block: &[u8]) -> (u64, u64) {
    byte_masks_portable(block)
}

/// Portable [`byte_masks`]: eight bytes at a time, exact per byte (no borrow between bytes).
fn byte_masks_portable(block: &[u8]) -> (u64, u64) {
    const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    const ONES: u64 = 0x0101_0101_0101_0101;
    // Gathers bit 7 of each byte into the top byte: the multiplication's partial products land
    // on distinct bits, so nothing carries.
    let gather = |high: u64| ((high >> 7).wrapping_mul(0x0102_0408_1020_4080)) >> 56;
    let (mut ff, mut zero) = (0u64, 0u64);
    for (i, chunk) in block.chunks_exact(8).enumerate() {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(chunk);
        let w = u64::from_le_bytes(bytes);
        // Bit 7 set iff the low 7 bits are all ones (the +1 carries into bit 7) and bit 7 is set.
        let is_ff = (w & LOW7).wrapping_add(ONES) & w & !LOW7;
        // Bit 7 set iff no bit at all is set: adding 0x7F sets bit 7 for any nonzero low part.
        let is_zero = !((w & LOW7).wrapping_add(LOW7) | w | LOW7);
        ff |= gather(is_ff) << (8 * i);
        zero |= gather(is_zero) << (8 * i);
    }
    (ff, zero)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The straightforward definition, to compare the fast one against.
    fn naive_scan_end(data: &[u8], from: usize) -> Option<ScanEnd> {
        let mut i = from;
        loop {
            let ff = i + data.get(i..)?.iter().position(|&b| b == 0xFF)?;
            let mut j = ff + 1;
            while data.get(j) == Some(&0xFF) {
                j += 1;
            }
            match *data.get(j)? {
                0x00 | 0xD0..=0xD7 => i = j + 1,
                marker => {
                    return Some(ScanEnd {
                        data_end: ff,
                        marker,
                        after_marker: j + 1,
                    })
                }
            }
        }
    }

    #[test]
    fn matches_the_naive_definition() {
        let alphabet = [0xFF, 0x00, 0xD3, 0xD9, 0x12, 0xC4, 0xFE];
        let mut state = 1u32;
        for case in 0..4000u32 {
            let len = (case % 200) as usize;
            let data: Vec<u8> = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 17;
                    state ^= state << 5;
                    // Mostly "ordinary" bytes, so long blocks without 0xFF occur too.
                    if state % 5 == 0 {
                        alphabet[(state >> 8) as usize % alphabet.len()]
                    } else {
                        (state >> 16) as u8 & 0x7F
                    }
                })
                .collect();
            for from in [0, 1, len / 2, len.saturating_sub(1), len, len + 1] {
                assert_eq!(
                    find_scan_end(&data, from),
                    naive_scan_end(&data, from),
                    "{data:02X?} from {from}"
                );
            }
        }
    }

    #[test]
    fn incremental_scanning_matches_one_pass() {
        let alphabet = [0xFF, 0x00, 0xD3, 0xD9, 0x12, 0xFF, 0x34];
        let mut state = 3u32;
        for case in 0..3000u32 {
            let len = (case % 300) as usize;
            let data: Vec<u8> = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 17;
                    state ^= state << 5;
                    if state % 7 == 0 {
                        alphabet[(state >> 8) as usize % alphabet.len()]
                    } else {
                        0x55
                    }
                })
                .collect();
            // Feed the data in pieces as the depacketizer does, then finish with a whole scan.
            let mut resume = 0;
            let mut end = None;
            let mut cut = 0;
            while cut < len {
                cut = (cut + 1 + (state as usize % 97)).min(len);
                state = state.rotate_left(5) ^ 0x9E37_79B9;
                match scan(&data[..cut], resume, false) {
                    Progress::End(e) => {
                        end = Some(e);
                        break;
                    }
                    Progress::NeedMore { resume: r } => {
                        assert!(r >= resume && r <= cut);
                        resume = r;
                    }
                }
            }
            let end = end.or_else(|| find_scan_end(&data, resume));
            assert_eq!(end, naive_scan_end(&data, 0), "{data:02X?}");
        }
    }

    #[test]
    fn portable_masks_match_sse2_and_definition() {
        let mut block = [0u8; BLOCK];
        let mut state = 7u32;
        for _ in 0..2000 {
            for b in block.iter_mut() {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                *b = [0xFF, 0xFE, 0x7F, 0x00, 0x80, 0x01][(state >> 7) as usize % 6];
            }
            let expected = block
                .iter()
                .enumerate()
                .fold(0u64, |m, (i, &b)| m | (u64::from(b == 0xFF) << i));
            let expected_zero = block
                .iter()
                .enumerate()
                .fold(0u64, |m, (i, &b)| m | (u64::from(b == 0) << i));
            assert_eq!(byte_masks_portable(&block), (expected, expected_zero));
            if expected != 0 {
                assert_eq!(byte_masks(&block), (expected, expected_zero));
            } else {
                assert_eq!(byte_masks(&block).0, 0);
            }
        }
    }

    #[test]
    fn scan_end_skips_stuffing_and_restart_markers() {
        let data = [1, 0xFF, 0x00, 2, 0xFF, 0xD3, 3, 0xFF, 0xFF, 0xD9, 9];
        let end = find_scan_end(&data, 0).unwrap();
        assert_eq!(
            end,
            ScanEnd {
                data_end: 7,
                marker: 0xD9,
                after_marker: 10
            }
        );
    }

    #[test]
    fn scan_without_marker_has_no_end() {
        assert_eq!(find_scan_end(&[1, 2, 0xFF, 0x00, 3], 0), None);
        assert_eq!(find_scan_end(&[1, 2, 0xFF], 0), None);
        assert_eq!(find_scan_end(&[1, 2, 0xFF, 0xFF], 0), None);
        assert_eq!(find_scan_end(&[], 0), None);
        assert_eq!(find_scan_end(&[0x12; 1000], 0), None);
    }
}
