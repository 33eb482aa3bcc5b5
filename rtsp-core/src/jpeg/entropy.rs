//! Walking entropy-coded data: finding where a scan ends.
//!
//! Inside a scan, `0xFF` is always followed by `0x00` (byte stuffing) or by a restart marker
//! `RST0..RST7`; any other marker ends the scan. Both the parser (to cut the scan out of a file)
//! and the depacketizer (to refuse reassembled data that would not decode) use this, so a frame the
//! depacketizer emits always parses again.
//!
//! Scans are walked once per frame by the sender (parsing) and once by the receiver
//! (depacketizing), so this is the hot loop of RFC 2435: 64 bytes are dismissed per step with one
//! SIMD test (AVX2 when the CPU has it, else SSE2, which every x86_64 has; eight bytes at a time
//! elsewhere), and the `0xFF` bytes a block holds are checked against their successors in the same
//! vectorized way, so stuffed bytes and restart markers never cost a branch of their own.

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
    match scan(data, from) {
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
        /// Where to resume: the end of the data, or the start of a trailing run of `0xFF` whose
        /// meaning depends on the bytes still to come. Never inside a marker.
        resume: usize,
    },
}

/// Scans `data[from..]` like [`find_scan_end`], telling where to resume when it finds no end:
/// this is how the depacketizer checks each fragment as it arrives without rescanning the frame
/// (only a trailing `0xFF` is looked at again).
pub(crate) fn scan(data: &[u8], from: usize) -> Progress {
    let mut pos = from;
    while let Some(at) = next_candidate(data, pos) {
        match classify(data, at) {
            Some(Step::Continue { resume }) => pos = resume,
            Some(Step::End(end)) => return Progress::End(end),
            None => return Progress::NeedMore { resume: at },
        }
    }
    Progress::NeedMore {
        resume: data.len().max(from),
    }
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

/// Bytes examined per step.
const BLOCK: usize = 64;

/// A block and the byte after it, which decides what the block's last `0xFF` is.
type Window = [u8; BLOCK + 1];

/// Index of the first `0xFF` at or after `from` that is neither stuffing (`0xFF00`) nor the start
/// of a restart marker: a marker, fill, or a trailing `0xFF` whose successor is not known yet.
fn next_candidate(data: &[u8], from: usize) -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            return unsafe { x86::next_candidate_avx2(data, from) };
        }
        x86::next_candidate_sse2(data, from)
    }
    #[cfg(not(target_arch = "x86_64"))]
    next_candidate_with(data, from, candidates_portable)
}

/// Appends `src` to `dst` and returns what `next_candidate(src, 0)` would.
///
/// The check runs right after the copy, while the bytes are still in the L1 cache: receiving a
/// fragment then costs one read from memory. (A loop that checks each block as it copies it was
/// measured no faster than the library memcpy followed by this search.)
pub(crate) fn append_and_find_candidate(dst: &mut Vec<u8>, src: &[u8]) -> Option<usize> {
    dst.extend_from_slice(src);
    next_candidate(src, 0)
}

/// The search of [`next_candidate`], with `candidates` giving the candidate bits of one window.
#[inline(always)]
fn next_candidate_with(
    data: &[u8],
    from: usize,
    candidates: impl Fn(&Window) -> u64,
) -> Option<usize> {
    let mut pos = from;
    while let Some(window) = window_at(data, pos) {
        let mask = candidates(window);
        if mask != 0 {
            return Some(pos + mask.trailing_zeros() as usize);
        }
        pos += BLOCK;
    }
    tail_candidate(data, pos, candidates)
}

/// The window of `data` starting at `pos`, if the data reaches that far.
#[inline(always)]
fn window_at(data: &[u8], pos: usize) -> Option<&Window> {
    data.get(pos..pos.checked_add(BLOCK + 1)?)
        .and_then(|w| <&Window>::try_from(w).ok())
}

/// The first candidate in `data[pos..]`, which is shorter than a window.
#[inline(always)]
fn tail_candidate(data: &[u8], pos: usize, candidates: impl Fn(&Window) -> u64) -> Option<usize> {
    // The window ending with the data covers all but the very last byte (bits of positions
    // already checked or before `pos` are masked off); the last byte has no successor yet, so a
    // 0xFF there is a candidate. (Copying the tail into a padded window instead would stall on
    // store forwarding, once per call.)
    let len = data.len();
    if pos >= len {
        return None;
    }
    if let Some(start) = len.checked_sub(BLOCK + 1) {
        let mask = candidates(window_at(data, start)?)
            & u64::MAX.checked_shl((pos - start) as u32).unwrap_or(0);
        if mask != 0 {
            return Some(start + mask.trailing_zeros() as usize);
        }
        return (data.get(len - 1) == Some(&0xFF)).then_some(len - 1);
    }
    // Data shorter than a window, padded with 0xFF: a 0xFF before the padding then looks like a
    // marker start, which is right since its successor is unknown. Padding bits are masked.
    let rest = data.get(pos..)?;
    let mut padded: Window = [0xFF; BLOCK + 1];
    padded.get_mut(..rest.len())?.copy_from_slice(rest);
    let mask = candidates(&padded) & (u64::MAX >> (BLOCK - rest.len()));
    (mask != 0).then(|| pos + mask.trailing_zeros() as usize)
}

/// Whether a byte following `0xFF` keeps the scan going: stuffing or RST0..RST7.
#[cfg(test)]
fn continues(next: u8) -> bool {
    next == 0 || next & 0xF8 == 0xD0
}

/// Portable candidate bits of a window, eight bytes at a time: bit i is set iff `w[i] == 0xFF`
/// and `w[i + 1]` is neither `0x00` nor RST0..RST7.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn candidates_portable(w: &Window) -> u64 {
    let (head, _) = w.split_at(BLOCK);
    let ff = byte_masks_portable(head, 0xFF, 0xFF);
    if ff == 0 {
        return 0;
    }
    let next = w.get(1..).unwrap_or_default();
    let stuffed = byte_masks_portable(next, 0xFF, 0x00);
    let restart = byte_masks_portable(next, 0xF8, 0xD0);
    ff & !(stuffed | restart)
}

/// Bit i set iff `block[i] & mask == value`, for the first 64 bytes of `block`: eight bytes at a
/// time, exact per byte (no borrow between bytes).
fn byte_masks_portable(block: &[u8], mask: u8, value: u8) -> u64 {
    const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    const ONES: u64 = 0x0101_0101_0101_0101;
    // Gathers bit 7 of each byte into the top byte: the multiplication's partial products land
    // on distinct bits, so nothing carries.
    let gather = |high: u64| ((high >> 7).wrapping_mul(0x0102_0408_1020_4080)) >> 56;
    let mask = u64::from(mask) * ONES;
    let value = u64::from(value) * ONES;
    let mut bits = 0u64;
    for (i, chunk) in block.chunks_exact(8).take(BLOCK / 8).enumerate() {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(chunk);
        // Zero bytes of `w` are the matching bytes.
        let w = (u64::from_le_bytes(bytes) & mask) ^ value;
        // Bit 7 set iff no bit at all is set: adding 0x7F sets bit 7 for any nonzero low part.
        let is_zero = !((w & LOW7).wrapping_add(LOW7) | w | LOW7);
        bits |= gather(is_zero) << (8 * i);
    }
    bits
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    //! SIMD candidate search. Every load below reads 16 or 32 bytes inside a [`Window`]
    //! (65 bytes) through an unaligned load, so it stays in bounds whatever the alignment.

    use super::{next_candidate_with, Window};
    use std::arch::x86_64::{
        __m128i, __m256i, _mm256_and_si256, _mm256_cmpeq_epi8, _mm256_loadu_si256,
        _mm256_movemask_epi8, _mm256_or_si256, _mm256_set1_epi8, _mm256_setzero_si256,
        _mm_and_si128, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128,
        _mm_set1_epi8, _mm_setzero_si128,
    };

    pub(super) fn next_candidate_sse2(data: &[u8], from: usize) -> Option<usize> {
        next_candidate_with(data, from, candidates_sse2)
    }

    /// # Safety
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn next_candidate_avx2(data: &[u8], from: usize) -> Option<usize> {
        // SAFETY: the caller guarantees AVX2.
        next_candidate_with(data, from, |w| unsafe { candidates_avx2(w) })
    }

    /// Candidate bits of a window with SSE2, which x86_64 always has.
    #[inline(always)]
    pub(super) fn candidates_sse2(w: &Window) -> u64 {
        let p = w.as_ptr();
        // SAFETY: SSE2 is part of the x86_64 baseline. Loads at offsets 0..=48 and 1..=49 read
        // 16 bytes each, ending at most at byte 65 of the 65-byte window.
        unsafe {
            let load = |at: usize| _mm_loadu_si128(p.add(at).cast::<__m128i>());
            let ones = _mm_set1_epi8(-1);
            let v = [load(0), load(16), load(32), load(48)];
            let e = v.map(|x| _mm_cmpeq_epi8(x, ones));
            let any = _mm_or_si128(_mm_or_si128(e[0], e[1]), _mm_or_si128(e[2], e[3]));
            if _mm_movemask_epi8(any) == 0 {
                return 0;
            }
            let zero = _mm_setzero_si128();
            let top5 = _mm_set1_epi8(0xF8_u8 as i8);
            let rst = _mm_set1_epi8(0xD0_u8 as i8);
            let mut bits = 0u64;
            for (i, eq) in e.into_iter().enumerate() {
                let next = load(16 * i + 1);
                let fine = _mm_or_si128(
                    _mm_cmpeq_epi8(next, zero),
                    _mm_cmpeq_epi8(_mm_and_si128(next, top5), rst),
                );
                // movemask sets only the low 16 bits.
                let ff = _mm_movemask_epi8(eq) as u16;
                let fine = _mm_movemask_epi8(fine) as u16;
                bits |= u64::from(ff & !fine) << (16 * i);
            }
            bits
        }
    }

    /// Candidate bits of a window with AVX2.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    #[inline]
    pub(super) unsafe fn candidates_avx2(w: &Window) -> u64 {
        let p = w.as_ptr();
        // SAFETY: AVX2 is guaranteed by the caller. Loads at offsets 0, 32, 1 and 33 read 32
        // bytes each, ending at most at byte 65 of the 65-byte window.
        unsafe {
            let load = |at: usize| _mm256_loadu_si256(p.add(at).cast::<__m256i>());
            let ones = _mm256_set1_epi8(-1);
            let e0 = _mm256_cmpeq_epi8(load(0), ones);
            let e1 = _mm256_cmpeq_epi8(load(32), ones);
            if _mm256_movemask_epi8(_mm256_or_si256(e0, e1)) == 0 {
                return 0;
            }
            let zero = _mm256_setzero_si256();
            let top5 = _mm256_set1_epi8(0xF8_u8 as i8);
            let rst = _mm256_set1_epi8(0xD0_u8 as i8);
            let fine = |next: __m256i| {
                _mm256_or_si256(
                    _mm256_cmpeq_epi8(next, zero),
                    _mm256_cmpeq_epi8(_mm256_and_si256(next, top5), rst),
                )
            };
            // movemask sets 32 bits; the casts reinterpret them.
            let ff = u64::from(_mm256_movemask_epi8(e0) as u32)
                | u64::from(_mm256_movemask_epi8(e1) as u32) << 32;
            let fine = u64::from(_mm256_movemask_epi8(fine(load(1))) as u32)
                | u64::from(_mm256_movemask_epi8(fine(load(33))) as u32) << 32;
            ff & !fine
        }
    }
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

    /// Advances the tests' xorshift generator and returns the new state.
    fn next(state: &mut u32) -> u32 {
        *state ^= *state << 13;
        *state ^= *state >> 17;
        *state ^= *state << 5;
        *state
    }

    /// `len` pseudo-random bytes: one in `one_in` drawn from `alphabet` (the marker-ish bytes under
    /// test), the others `filler(state)`.
    fn sparse_bytes(
        state: &mut u32,
        len: usize,
        alphabet: &[u8],
        one_in: u32,
        filler: fn(u32) -> u8,
    ) -> Vec<u8> {
        (0..len)
            .map(|_| {
                let x = next(state);
                if x.is_multiple_of(one_in) {
                    alphabet[(x >> 8) as usize % alphabet.len()]
                } else {
                    filler(x)
                }
            })
            .collect()
    }

    #[test]
    fn matches_the_naive_definition() {
        let alphabet = [0xFF, 0x00, 0xD3, 0xD9, 0x12, 0xC4, 0xFE];
        let mut state = 1u32;
        for case in 0..4000u32 {
            let len = (case % 200) as usize;
            // Mostly "ordinary" bytes, so long blocks without 0xFF occur too.
            let data = sparse_bytes(&mut state, len, &alphabet, 5, |x| (x >> 16) as u8 & 0x7F);
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
            let data = sparse_bytes(&mut state, len, &alphabet, 7, |_| 0x55);
            // Feed the data in pieces as the depacketizer does, then finish with a whole scan.
            let mut resume = 0;
            let mut end = None;
            let mut cut = 0;
            while cut < len {
                cut = (cut + 1 + (state as usize % 97)).min(len);
                state = state.rotate_left(5) ^ 0x9E37_79B9;
                match scan(&data[..cut], resume) {
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
    fn every_candidate_search_matches_the_definition() {
        let mut window: Window = [0; BLOCK + 1];
        let mut state = 7u32;
        for case in 0..4000 {
            for b in window.iter_mut() {
                *b = [0xFF, 0xFE, 0x7F, 0x00, 0x80, 0xD0, 0xD7, 0xD8, 0xCF]
                    [(next(&mut state) >> 7) as usize % 9];
            }
            if case % 4 == 0 {
                // Mostly blocks without any 0xFF, like real scan data.
                window.iter_mut().for_each(|b| *b &= 0x7F);
                window[(state % 65) as usize] = 0xFF;
            }
            let expected = (0..BLOCK).fold(0u64, |m, i| {
                m | (u64::from(window[i] == 0xFF && !continues(window[i + 1])) << i)
            });
            assert_eq!(candidates_portable(&window), expected, "{window:02X?}");
            #[cfg(target_arch = "x86_64")]
            {
                assert_eq!(x86::candidates_sse2(&window), expected, "{window:02X?}");
                if std::arch::is_x86_feature_detected!("avx2") {
                    // SAFETY: AVX2 is available, checked just above.
                    let avx2 = unsafe { x86::candidates_avx2(&window) };
                    assert_eq!(avx2, expected, "{window:02X?}");
                }
            }
        }
    }

    #[test]
    fn appending_copies_everything_and_finds_the_first_candidate() {
        let alphabet = [0xFF, 0x00, 0xD3, 0xD9, 0x12, 0xFF, 0x34];
        let mut state = 11u32;
        for case in 0..3000u32 {
            let len = (case % 300) as usize;
            let data = sparse_bytes(&mut state, len, &alphabet, 61, |_| 0x55);
            let mut dst = vec![7u8; case as usize % 5];
            let before = dst.clone();
            let found = append_and_find_candidate(&mut dst, &data);
            assert_eq!(&dst[..before.len()], before.as_slice());
            assert_eq!(&dst[before.len()..], data.as_slice());
            let expected = data
                .iter()
                .enumerate()
                .position(|(i, &b)| b == 0xFF && data.get(i + 1).is_none_or(|&n| !continues(n)));
            assert_eq!(found, expected, "{data:02X?}");
            assert_eq!(next_candidate(&data, 0), expected, "{data:02X?}");
            #[cfg(target_arch = "x86_64")]
            assert_eq!(x86::next_candidate_sse2(&data, 0), expected);
            let portable = next_candidate_with(&data, 0, candidates_portable);
            assert_eq!(portable, expected, "{data:02X?}");
        }
    }

    #[test]
    fn trailing_ff_is_resumed_not_skipped() {
        for len in [1, 63, 64, 65, 66, 129, 200] {
            let mut data = vec![0x12u8; len];
            data[len - 1] = 0xFF;
            assert_eq!(scan(&data, 0), Progress::NeedMore { resume: len - 1 });
            data.push(0xD9);
            assert_eq!(
                find_scan_end(&data, len - 1),
                Some(ScanEnd {
                    data_end: len - 1,
                    marker: 0xD9,
                    after_marker: len + 1
                })
            );
            data.pop();
            data.push(0x00);
            assert_eq!(scan(&data, len - 1), Progress::NeedMore { resume: len + 1 });
        }
    }

    #[test]
    fn markers_at_block_boundaries_are_found() {
        for at in 60..140 {
            let mut data = vec![0x34u8; 200];
            // Stuffing and a restart marker right before, then the marker across a boundary.
            data[at - 4] = 0xFF;
            data[at - 3] = 0x00;
            data[at - 2] = 0xFF;
            data[at - 1] = 0xD5;
            data[at] = 0xFF;
            data[at + 1] = 0xC4;
            assert_eq!(find_scan_end(&data, 0), naive_scan_end(&data, 0), "at {at}");
            assert_eq!(find_scan_end(&data, 0).map(|e| e.data_end), Some(at));
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
