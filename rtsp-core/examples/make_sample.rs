//! Writes a lab-format `.Mjpeg` sample file.
//!
//! ```text
//! cargo run --release -p rtsp-core --example make_sample -- OUTPUT \
//!     [--frames N] [--width W --height H] [--fps F] [--quality Q]
//! cargo run --release -p rtsp-core --example make_sample -- OUTPUT --from INPUT.mjpeg
//! ```
//!
//! Without `--from`, the frames come from the synthetic [`TestPattern`] (defaults: 500 frames
//! of 640x480 at 20 fps, i.e. 25 s). With `--from`, the frames of INPUT (raw concatenated
//! JPEG as written by `ffmpeg -f mjpeg`, or another lab file) are rewrapped in the lab format.

use std::error::Error;
use std::fs::File;
use std::io::BufWriter;
use std::process::ExitCode;

use rtsp_core::media::{MjpegFile, MjpegWriter, TestPattern};

const USAGE: &str = "usage: make_sample OUTPUT [--frames N] [--width W --height H] [--fps F] \
                     [--quality Q] | make_sample OUTPUT --from INPUT.mjpeg";

struct Args {
    output: String,
    from: Option<String>,
    frames: usize,
    width: u16,
    height: u16,
    fps: f64,
    quality: u8,
}

fn parse_args() -> Result<Args, Box<dyn Error>> {
    let mut args = Args {
        output: String::new(),
        from: None,
        frames: 500,
        width: 640,
        height: 480,
        fps: 20.0,
        quality: TestPattern::DEFAULT_QUALITY,
    };
    let mut output = None;
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--frames" => args.frames = value()?.parse()?,
            "--width" => args.width = value()?.parse()?,
            "--height" => args.height = value()?.parse()?,
            "--fps" => args.fps = value()?.parse()?,
            "--quality" => args.quality = value()?.parse()?,
            "--from" => args.from = Some(value()?),
            "-h" | "--help" => return Err(USAGE.into()),
            flag if flag.starts_with("--") => return Err(format!("unknown option {flag}").into()),
            _ if output.is_none() => output = Some(arg),
            _ => return Err(format!("unexpected argument {arg}").into()),
        }
    }
    args.output = output.ok_or(USAGE)?;
    Ok(args)
}

fn run() -> Result<(), Box<dyn Error>> {
    let args = parse_args()?;
    let mut writer = MjpegWriter::new(BufWriter::new(File::create(&args.output)?));
    if let Some(input) = &args.from {
        let source = MjpegFile::open(input)?;
        for frame in source.frames() {
            writer.write_frame(frame)?;
        }
    } else {
        let pattern =
            TestPattern::new(args.width, args.height, args.fps)?.with_quality(args.quality);
        for n in 0..args.frames {
            writer.write_frame(&pattern.frame(n as u64)?)?;
        }
    }
    writer.flush()?;
    println!(
        "{}: {} frames, {} bytes",
        args.output,
        writer.frames_written(),
        writer.bytes_written()
    );
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("make_sample: {e}");
            ExitCode::FAILURE
        }
    }
}
