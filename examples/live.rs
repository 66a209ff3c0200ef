//! `predict --live`: the default microphone through [cpal](https://docs.rs/cpal), each
//! window's emotion printed as it completes, with a level meter; Ctrl-C ends cleanly.
//! Built with the `live` feature only (on Linux cpal needs ALSA's headers,
//! `libasound2-dev`).

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{RecvTimeoutError, SyncSender, sync_channel};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{FromSample, SampleFormat, SizedSample, StreamConfig};
use ser_models::Recognizer;
use ser_models::timeline::{Segment, TimelineConfig};

/// Opens an input stream of samples of type `T`, sending each callback's samples as mono
/// `f32` (channel mean). A full channel drops the block rather than block the audio thread.
fn open<T>(
    device: &cpal::Device,
    config: &StreamConfig,
    tx: SyncSender<Vec<f32>>,
) -> Result<cpal::Stream>
where
    T: SizedSample,
    f32: FromSample<T>,
{
    let channels = usize::from(config.channels.max(1));
    let stream = device.build_input_stream(
        config,
        move |data: &[T], _: &cpal::InputCallbackInfo| {
            let mono: Vec<f32> = data
                .chunks(channels)
                .map(|frame| {
                    frame
                        .iter()
                        .map(|&s| <f32 as FromSample<T>>::from_sample_(s))
                        .sum::<f32>()
                        / frame.len() as f32
                })
                .collect();
            let _ = tx.try_send(mono);
        },
        |e| eprintln!("\ninput stream error: {e}"),
        None,
    )?;
    Ok(stream)
}

fn level_meter(samples: &[f32]) -> String {
    let ms =
        samples.iter().map(|v| f64::from(*v).powi(2)).sum::<f64>() / samples.len().max(1) as f64;
    let db = 10.0 * ms.max(1e-10).log10();
    let filled = (((db + 60.0) / 60.0).clamp(0.0, 1.0) * 30.0).round() as usize;
    format!(
        "[{}{}] {db:>6.1} dBFS",
        "#".repeat(filled),
        " ".repeat(30 - filled)
    )
}

fn print_segment(s: &Segment) {
    let what = match s.prediction {
        Some(p) => {
            let bar = "#".repeat((p.confidence() * 20.0).round() as usize);
            format!(
                "{:<9} {:>3.0} % {bar}",
                p.emotion.as_str(),
                100.0 * p.confidence()
            )
        }
        None => "(no speech)".to_string(),
    };
    println!("\r{:>7.1} - {:>7.1} s  {what:<60}", s.start, s.end);
}

/// Listens until Ctrl-C, printing each window as it completes.
pub(crate) fn run(recognizer: &Recognizer, config: &TimelineConfig) -> Result<()> {
    let host = cpal::default_host();
    let Some(device) = host.default_input_device() else {
        bail!(
            "no input device (microphone) found on the {} audio host",
            host.id().name()
        );
    };
    let supported = device
        .default_input_config()
        .context("the input device has no usable configuration")?;
    let rate = supported.sample_rate().0;
    let format = supported.sample_format();
    let stream_config: StreamConfig = supported.into();
    let (tx, rx) = sync_channel::<Vec<f32>>(256);
    let stream = match format {
        SampleFormat::F32 => open::<f32>(&device, &stream_config, tx)?,
        SampleFormat::I16 => open::<i16>(&device, &stream_config, tx)?,
        SampleFormat::I32 => open::<i32>(&device, &stream_config, tx)?,
        SampleFormat::U16 => open::<u16>(&device, &stream_config, tx)?,
        SampleFormat::I8 => open::<i8>(&device, &stream_config, tx)?,
        other => bail!("the input device gives {other} samples, which are not supported"),
    };
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst))
        .context("cannot install the Ctrl-C handler")?;
    let live = TimelineConfig {
        batch: 1,
        ..*config
    };
    let mut timeline = recognizer.stream(rate, &live)?;
    stream.play().context("cannot start the input stream")?;
    eprintln!(
        "listening on {} at {rate} Hz: a line every {} s once the first {} s are in; Ctrl-C ends",
        device.name().unwrap_or_else(|_| "the default input".into()),
        live.hop_secs,
        live.window_secs
    );
    while !stop.load(Ordering::SeqCst) {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(block) => {
                eprint!("\r{}", level_meter(&block));
                let _ = std::io::stderr().flush();
                for s in timeline.push(&block)? {
                    print_segment(&s);
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    drop(stream);
    for s in timeline.finish()? {
        print_segment(&s);
    }
    eprintln!();
    match timeline.overall() {
        Some(p) => println!(
            "overall over {:.1} s: {} ({:.0} %)",
            timeline.duration(),
            p.emotion,
            100.0 * p.confidence()
        ),
        None => println!("no speech found in {:.1} s", timeline.duration()),
    }
    Ok(())
}
