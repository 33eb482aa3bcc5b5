//! Text the player shows: times, frame counters, rates. Widget-free so it is unit-tested.

use std::time::Duration;

/// `m:ss` below an hour, `h:mm:ss` above (what GNOME Videos shows).
pub fn clock(t: Duration) -> String {
    let total = t.as_secs();
    let (h, m, s) = (total / 3600, (total / 60) % 60, total % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// Seconds as a [`Duration`], with negative, NaN and huge values clamped (they come from
/// arithmetic on positions and rates that a server announced).
pub fn seconds(s: f64) -> Duration {
    if !s.is_finite() || s <= 0.0 {
        return Duration::ZERO;
    }
    Duration::try_from_secs_f64(s.min(1e9)).unwrap_or(Duration::ZERO)
}

/// The frame counter: `frame 123 / 400`, or `frame 123` when the total is unknown (live).
pub fn frame_counter(frame: u64, total: Option<u64>) -> String {
    match total {
        Some(total) => format!("frame {frame} / {total}"),
        None => format!("frame {frame}"),
    }
}

/// Elapsed and total time: `0:07 / 0:25`, or `0:07` for a live stream.
pub fn progress(elapsed: Duration, total: Option<Duration>) -> String {
    match total {
        Some(total) => format!("{} / {}", clock(elapsed), clock(total)),
        None => clock(elapsed),
    }
}

/// A bit rate with a unit that keeps three significant digits: `812 kbit/s`, `1.25 Mbit/s`.
pub fn bitrate(bits_per_second: f64) -> String {
    let bits = if bits_per_second.is_finite() {
        bits_per_second.max(0.0)
    } else {
        0.0
    };
    scaled(bits, &["bit/s", "kbit/s", "Mbit/s", "Gbit/s"])
}

/// `value` in the largest unit (steps of 1000) that keeps it at or above 1, with three
/// significant digits; a value that would round to 1000 moves up a unit.
fn scaled(value: f64, units: &[&str]) -> String {
    let mut v = value;
    let mut unit = units.first().copied().unwrap_or("");
    for next in units.iter().skip(1) {
        if v < 999.5 {
            break;
        }
        v /= 1000.0;
        unit = next;
    }
    format!("{} {unit}", three_digits(v))
}

/// A byte count: `512 B`, `4.07 MB` (decimal units, as file managers show sizes).
pub fn bytes(n: u64) -> String {
    if n < 1000 {
        return format!("{n} B");
    }
    scaled(n as f64, &["B", "kB", "MB", "GB"])
}

/// `1.23`, `12.3`, `123`: three significant digits for values from 1 to 999.
fn three_digits(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// A ratio as a percentage with one decimal: `0.0 %`, `12.5 %`.
pub fn percent(ratio: f64) -> String {
    let r = if ratio.is_finite() {
        ratio.clamp(0.0, 1.0)
    } else {
        0.0
    };
    format!("{:.1} %", r * 100.0)
}

/// Milliseconds with one decimal: `3.4 ms`.
pub fn millis(ms: f64) -> String {
    let ms = if ms.is_finite() { ms.max(0.0) } else { 0.0 };
    format!("{ms:.1} ms")
}

/// Frames per second: `20.0 fps`.
pub fn fps(rate: f64) -> String {
    let rate = if rate.is_finite() { rate.max(0.0) } else { 0.0 };
    format!("{rate:.1} fps")
}

/// A latency, or a dash when there is none yet.
pub fn latency(latency: Option<Duration>) -> String {
    match latency {
        Some(d) => millis(d.as_secs_f64() * 1000.0),
        None => "–".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_switches_to_hours() {
        assert_eq!(clock(Duration::ZERO), "0:00");
        assert_eq!(clock(Duration::from_millis(7_999)), "0:07");
        assert_eq!(clock(Duration::from_secs(25)), "0:25");
        assert_eq!(clock(Duration::from_secs(61)), "1:01");
        assert_eq!(clock(Duration::from_secs(3_600 + 5)), "1:00:05");
        assert_eq!(
            clock(Duration::from_secs(10 * 3_600 + 59 * 60 + 1)),
            "10:59:01"
        );
    }

    #[test]
    fn counters_and_progress() {
        assert_eq!(frame_counter(123, Some(400)), "frame 123 / 400");
        assert_eq!(frame_counter(7, None), "frame 7");
        assert_eq!(
            progress(Duration::from_secs(7), Some(Duration::from_secs(25))),
            "0:07 / 0:25"
        );
        assert_eq!(progress(Duration::from_secs(70), None), "1:10");
    }

    #[test]
    fn seconds_clamps_nonsense() {
        assert_eq!(seconds(-3.0), Duration::ZERO);
        assert_eq!(seconds(f64::NAN), Duration::ZERO);
        assert_eq!(seconds(f64::INFINITY), Duration::ZERO);
        assert_eq!(seconds(1.5), Duration::from_millis(1_500));
        assert_eq!(seconds(1e30), Duration::from_secs(1_000_000_000));
    }

    #[test]
    fn rates_pick_units() {
        assert_eq!(bitrate(0.0), "0.00 bit/s");
        assert_eq!(bitrate(800.0), "800 bit/s");
        assert_eq!(bitrate(812_000.0), "812 kbit/s");
        assert_eq!(bitrate(1_250_000.0), "1.25 Mbit/s");
        assert_eq!(bitrate(999_920.0), "1.00 Mbit/s");
        assert_eq!(bitrate(8e12), "8000 Gbit/s");
        assert_eq!(bytes(999_999), "1.00 MB");
        assert_eq!(bitrate(f64::NAN), "0.00 bit/s");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(4_273_393), "4.27 MB");
        assert_eq!(percent(0.125), "12.5 %");
        assert_eq!(percent(-1.0), "0.0 %");
        assert_eq!(percent(3.0), "100.0 %");
        assert_eq!(millis(3.44), "3.4 ms");
        assert_eq!(fps(19.96), "20.0 fps");
        assert_eq!(latency(Some(Duration::from_millis(42))), "42.0 ms");
        assert_eq!(latency(Some(Duration::from_micros(350))), "0.3 ms");
        assert_eq!(latency(None), "–");
    }
}
