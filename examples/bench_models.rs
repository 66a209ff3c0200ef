//! Per-step training and inference times of a model on random input, printed as JSON, for
//! comparison with `scripts/bench_models.py` (the same network in PyTorch).
//!
//! ```text
//! cargo run --release --example bench_models -- --model cnn-blstm-attn --shape 3x128x128 --shape 1x128x94
//! ```
//!
//! A training step is forward, cross-entropy plus the L2 penalty, backward and one Adam
//! update; an inference batch is a forward pass in evaluation mode. Each figure is the
//! median over `--steps` after `--warmup` untimed steps.

use std::time::Instant;

use anyhow::{Result, bail};
use clap::Parser;
use ser_examples::run;
use ser_models::candle_core::{DType, Device, Tensor};
use ser_models::optim::{Adam, AdamConfig};
use ser_models::{Architecture, InputMode, Mode, Model, ModelConfig};

/// Times training steps and inference batches.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Architecture.
    #[arg(long, default_value = "cnn-blstm-attn")]
    model: String,
    /// Input `CxHxW` (may repeat).
    #[arg(long)]
    shape: Vec<String>,
    /// Batch size.
    #[arg(long, default_value_t = 32)]
    batch: usize,
    /// Timed steps.
    #[arg(long, default_value_t = 10)]
    steps: usize,
    /// Untimed warm-up steps.
    #[arg(long, default_value_t = 3)]
    warmup: usize,
    /// Print only JSON.
    #[arg(long)]
    json: bool,
}

#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        f64::NAN
    } else {
        v[v.len() / 2]
    }
}

fn parse_shape(s: &str) -> Result<[usize; 3]> {
    let p: Vec<usize> = s.split('x').map(str::parse).collect::<Result<_, _>>()?;
    match p[..] {
        [c, h, w] => Ok([c, h, w]),
        _ => bail!("--shape {s}: expected CxHxW"),
    }
}

fn main() {
    run(|| {
        let args = Args::parse();
        let arch: Architecture = args.model.parse()?;
        let shapes = if args.shape.is_empty() {
            vec!["3x128x128".to_string(), "1x128x94".to_string()]
        } else {
            args.shape.clone()
        };
        let device = Device::Cpu;
        for s in &shapes {
            let [c, h, w] = parse_shape(s)?;
            let mut cfg = ModelConfig::research(arch);
            cfg.input.mode = if c == 3 {
                InputMode::Magma { imagenet: false }
            } else {
                InputMode::LogMel {
                    mean: 0.0,
                    std: 1.0,
                }
            };
            cfg.input.n_mels = h;
            cfg.input.frames = w;
            let model = Model::new(cfg, 0, &device)?;
            let mut opt = Adam::new(model.trainable_vars(), AdamConfig::default())?;
            let xs = Tensor::randn(0f32, 1.0, (args.batch, c, h, w), &device)?;
            let labels: Vec<u32> = (0..args.batch as u32).map(|i| i % 7).collect();
            let labels = Tensor::new(labels, &device)?;
            let mut train = Vec::new();
            for i in 0..args.warmup + args.steps {
                let t = Instant::now();
                let logits = model.forward_t(&xs, Mode::Train { seed: i as u64 })?;
                let mut loss = candle_nn::loss::cross_entropy(&logits, &labels)?;
                if let Some(p) = model.l2_penalty()? {
                    loss = (loss + p)?;
                }
                let grads = loss.backward()?;
                opt.step(&grads)?;
                let _ = loss.to_dtype(DType::F32)?.to_scalar::<f32>()?;
                if i >= args.warmup {
                    train.push(t.elapsed().as_secs_f64());
                }
            }
            let mut infer = Vec::new();
            for i in 0..args.warmup + args.steps {
                let t = Instant::now();
                let p = model.predict_proba(&xs)?;
                let _ = p.sum_all()?.to_scalar::<f32>()?;
                if i >= args.warmup {
                    infer.push(t.elapsed().as_secs_f64());
                }
            }
            let out = serde_json::json!({
                "framework": "ser (candle 0.11.1)",
                "model": arch.as_str(),
                "threads": rayon::current_num_threads(),
                "batch": args.batch,
                "shape": [c, h, w],
                "train_step_s": median(train),
                "infer_batch_s": median(infer),
                "params": model.n_params(),
            });
            if !args.json {
                eprintln!("{} {s} batch {}: see JSON", arch, args.batch);
            }
            println!("{out}");
        }
        Ok(())
    });
}
