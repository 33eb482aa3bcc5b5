//! Preparing a file's frames for sending, once, when it is loaded: RFC 2435 payloads for
//! standard clients and, for lab clients (one whole JPEG per UDP datagram), frames that fit one
//! datagram. Bytes in, payloads or the reason they cannot be made out; the runtime reads the
//! file, logs and shares the result between sessions.

use std::collections::HashMap;
use std::ops::Deref;

use crate::jpeg::{reencode_for_rtp, Fragment, Packetizer, ParsedJpeg};

/// JPEG quality used when re-encoding frames for RFC 2435.
const TRANSCODE_QUALITY: u8 = 90;
/// Qualities tried, best first, when re-encoding a frame to fit one lab datagram.
const LAB_QUALITIES: [u8; 6] = [85, 70, 55, 40, 25, 10];
/// Oversized frames named in a refusal (the count says how many there are in all).
const NAMED_FRAMES: usize = 3;

/// What follows the fixed RTP header of one packet of a frame: the RFC 2435 payload (which it
/// derefs to) and, on the first packet of a frame above 2040 pixels, the data of the ONVIF JPEG
/// header extension the packet carries (profile
/// [`ONVIF_JPEG_PROFILE`](crate::jpeg::ONVIF_JPEG_PROFILE)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpPayload {
    /// The RFC 2435 payload.
    pub payload: Vec<u8>,
    /// The header extension data, a whole number of 32-bit words.
    pub extension: Option<Vec<u8>>,
}

impl From<Fragment<'_>> for RtpPayload {
    fn from(fragment: Fragment<'_>) -> Self {
        RtpPayload {
            payload: fragment.to_vec(),
            extension: fragment.extension().map(<[u8]>::to_vec),
        }
    }
}

impl Deref for RtpPayload {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.payload
    }
}

/// The packets of one frame, in order.
pub fn packetize(packetizer: &Packetizer, frame: &ParsedJpeg<'_>) -> Vec<RtpPayload> {
    packetizer.fragments(frame).map(RtpPayload::from).collect()
}

/// Every frame of a file as RFC 2435 payloads.
#[derive(Debug)]
pub struct RtpFrames {
    /// Per frame, its payloads in packet order; `Err` (naming the frame) when RFC 2435 cannot
    /// carry the file and re-encoding was not allowed or failed.
    pub payloads: Result<Vec<Vec<RtpPayload>>, String>,
    /// Width of the first frame (0 when it was not usable).
    pub width: u16,
    /// Height of the first frame.
    pub height: u16,
    /// Frames that were re-encoded to be carried.
    pub transcoded: usize,
}

/// Packetizes `frames`; frames RFC 2435 cannot carry are re-encoded when `transcode` is set.
pub fn rtp_frames<'a>(frames: impl Iterator<Item = &'a [u8]>, transcode: bool) -> RtpFrames {
    let packetizer = Packetizer::new();
    let mut out = RtpFrames {
        payloads: Ok(Vec::with_capacity(frames.size_hint().0)),
        width: 0,
        height: 0,
        transcoded: 0,
    };
    for (i, jpeg) in frames.enumerate() {
        let Ok(list) = &mut out.payloads else { break };
        let reencoded;
        let parsed = match ParsedJpeg::parse(jpeg) {
            Ok(p) => p,
            Err(e) if transcode => {
                reencoded = match reencode_for_rtp(jpeg, TRANSCODE_QUALITY) {
                    Ok(v) => v,
                    Err(re) => {
                        out.payloads = Err(format!("frame {i}: {e}; re-encoding failed: {re}"));
                        break;
                    }
                };
                out.transcoded += 1;
                match ParsedJpeg::parse(&reencoded) {
                    Ok(p) => p,
                    Err(e2) => {
                        out.payloads = Err(format!("frame {i}: re-encoded frame unusable: {e2}"));
                        break;
                    }
                }
            }
            Err(e) => {
                out.payloads = Err(format!("frame {i}: {e}"));
                break;
            }
        };
        if i == 0 {
            out.width = parsed.width();
            out.height = parsed.height();
        }
        list.push(packetize(&packetizer, &parsed));
    }
    out
}

/// Every frame of a file as sent to receivers that rebuild frames from the ONVIF header
/// extension's SOF ([`ParsedJpeg::parse_extended`]): 4:4:4 and grayscale frames unchanged, the
/// others exactly as [`rtp_frames`] sends them. `Err` names the first frame even they cannot get.
pub fn frame_header_frames<'a>(
    frames: impl Iterator<Item = &'a [u8]>,
) -> Result<Vec<Vec<RtpPayload>>, String> {
    let packetizer = Packetizer::new();
    frames
        .enumerate()
        .map(|(i, jpeg)| match ParsedJpeg::parse_extended(jpeg) {
            Ok(parsed) => Ok(packetize(&packetizer, &parsed)),
            Err(e) => Err(format!("frame {i}: {e}")),
        })
        .collect()
}

/// Why lab clients cannot be served a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabUnfit {
    /// The reason, naming the first oversized frames.
    pub why: String,
    /// How many frames are too large.
    pub oversized: usize,
}

/// The frames of `frames` larger than `max` bytes re-encoded to fit (by index; empty when all
/// fit), or why lab clients must be refused: some frame is too large and `transcode` is off, or
/// one does not fit even re-encoded at the lowest quality.
pub fn fit_for_lab(
    frames: &[&[u8]],
    max: usize,
    transcode: bool,
) -> Result<HashMap<usize, Vec<u8>>, LabUnfit> {
    let oversized: Vec<(usize, usize)> = frames
        .iter()
        .enumerate()
        .filter(|(_, jpeg)| jpeg.len() > max)
        .map(|(i, jpeg)| (i, jpeg.len()))
        .collect();
    if oversized.is_empty() {
        return Ok(HashMap::new());
    }
    let named = oversized
        .iter()
        .take(NAMED_FRAMES)
        .map(|(i, len)| format!("frame {i} is {len} bytes"))
        .collect::<Vec<_>>()
        .join(", ");
    let more = oversized.len().saturating_sub(NAMED_FRAMES);
    let named = if more > 0 {
        format!("{named} and {more} more")
    } else {
        named
    };
    if !transcode {
        return Err(LabUnfit {
            why: format!(
                "{named}; one UDP datagram carries at most {max} bytes of JPEG (restart the server with --transcode to re-encode such frames)"
            ),
            oversized: oversized.len(),
        });
    }
    let mut fitted = HashMap::with_capacity(oversized.len());
    for (i, _) in &oversized {
        let jpeg = frames.get(*i).copied().unwrap_or_default();
        match shrink_to(jpeg, max) {
            Some(smaller) => {
                fitted.insert(*i, smaller);
            }
            None => {
                return Err(LabUnfit {
                    why: format!(
                        "{named}; frame {i} does not fit one UDP datagram even re-encoded"
                    ),
                    oversized: oversized.len(),
                })
            }
        }
    }
    Ok(fitted)
}

/// `jpeg` re-encoded at the best quality that brings it to at most `max` bytes.
pub fn shrink_to(jpeg: &[u8], max: usize) -> Option<Vec<u8>> {
    LAB_QUALITIES.iter().find_map(|&q| {
        reencode_for_rtp(jpeg, q)
            .ok()
            .filter(|smaller| smaller.len() <= max)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::TestPattern;

    fn frames(n: u64) -> Vec<Vec<u8>> {
        let pattern = TestPattern::new(64, 48, 20.0).unwrap();
        (0..n).map(|i| pattern.frame(i).unwrap()).collect()
    }

    #[test]
    fn every_frame_becomes_payloads_and_the_first_gives_the_size() {
        let owned = frames(3);
        let out = rtp_frames(owned.iter().map(Vec::as_slice), false);
        let payloads = out.payloads.unwrap();
        assert_eq!(payloads.len(), 3);
        assert!(payloads.iter().all(|p| !p.is_empty()));
        assert_eq!((out.width, out.height, out.transcoded), (64, 48, 0));
    }

    #[test]
    fn a_frame_rfc_2435_cannot_carry_is_named_unless_transcoding() {
        let mut owned = frames(2);
        owned.push(b"not a jpeg".to_vec());
        let out = rtp_frames(owned.iter().map(Vec::as_slice), false);
        assert!(out.payloads.unwrap_err().starts_with("frame 2: "));
    }

    #[test]
    fn lab_frames_over_the_limit_are_refused_or_shrunk() {
        let owned = frames(4);
        let slices: Vec<&[u8]> = owned.iter().map(Vec::as_slice).collect();
        assert_eq!(fit_for_lab(&slices, 1 << 20, false), Ok(HashMap::new()));
        let max = slices.iter().map(|f| f.len()).min().unwrap() - 1;
        let refused = fit_for_lab(&slices, max, false).unwrap_err();
        assert_eq!(refused.oversized, 4);
        assert!(refused.why.contains("frame 0 is"), "{}", refused.why);
        assert!(refused.why.contains("and 1 more"), "{}", refused.why);
        let fitted = fit_for_lab(&slices, max, true).unwrap();
        assert_eq!(fitted.len(), 4);
        assert!(fitted.values().all(|f| f.len() <= max));
        let too_small = fit_for_lab(&slices, 16, true).unwrap_err();
        assert!(
            too_small.why.contains("even re-encoded"),
            "{}",
            too_small.why
        );
    }
}
