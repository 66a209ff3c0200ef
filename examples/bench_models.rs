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
use ser_models::candle_core::{DType, Tensor};
use ser_models::candle_core::{Module, ModuleT};
use ser_models::candle_nn::VarBuilder;
use ser_models::layers::{AttentionPool, Blstm, Dropout};
use ser_models::models::to_sequence;
use ser_models::optim::{Adam, AdamConfig};
use ser_models::{Architecture, Classifier, InputMode, Mode, Model, ModelConfig, ParamStore};

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
    /// Convolution channels per block (default: the research's 32,64,128,256; `train`'s
    /// default is 16,32,64,128).
    #[arg(long, value_delimiter = ',')]
    conv_channels: Vec<usize>,
    /// Batch size.
    #[arg(long, default_value_t = 32)]
    batch: usize,
    /// Timed steps.
    #[arg(long, default_value_t = 10)]
    steps: usize,
    /// Untimed warm-up steps.
    #[arg(long, default_value_t = 3)]
    warmup: usize,
    /// Time the same CNN-BLSTM-attention built from candle's own layers (candle_nn
    /// conv2d, batch_norm, max_pool2d): the "before" of ser's CPU operations.
    #[arg(long)]
    plain_candle: bool,
    /// Device: cpu, cuda, cuda:N, metal or auto.
    #[arg(long, default_value = "cpu")]
    device: String,
    /// Print only JSON.
    #[arg(long)]
    json: bool,
}

#[global_allocator]
static GLOBAL: ser_examples::alloc::Allocator = ser_examples::alloc::Allocator;

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

/// The research's CNN-BLSTM-attention with candle's own convolution, BatchNorm and
/// max-pooling (and ser's BLSTM, attention, head and seeded dropout, which candle lacks).
#[derive(Debug)]
struct PlainCandle {
    convs: Vec<(candle_nn::Conv2d, candle_nn::BatchNorm)>,
    drop: Vec<Dropout>,
    blstm: Blstm,
    attn: AttentionPool,
    head_drop: Dropout,
    fc: candle_nn::Linear,
    out: candle_nn::Linear,
}

impl PlainCandle {
    fn new(cfg: &ModelConfig, vb: VarBuilder) -> ser_models::candle_core::Result<Self> {
        let mut convs = Vec::new();
        let mut drop = Vec::new();
        let mut c = cfg.input.channels();
        for (i, &o) in cfg.conv_channels.iter().enumerate() {
            let v = vb.pp(format!("blocks.{i}"));
            let conv_cfg = candle_nn::Conv2dConfig {
                padding: 1,
                ..Default::default()
            };
            let conv = candle_nn::conv2d(c, o, 3, conv_cfg, v.pp("conv"))?;
            let bn_cfg = candle_nn::BatchNormConfig {
                eps: cfg.bn_eps,
                remove_mean: true,
                affine: true,
                momentum: cfg.bn_momentum,
            };
            convs.push((conv, candle_nn::batch_norm(o, bn_cfg, v.pp("bn"))?));
            drop.push(Dropout::new(cfg.conv_dropout, &format!("blocks.{i}")));
            c = o;
        }
        let (f, _) = cfg.conv_output();
        let h = cfg.rnn_hidden;
        Ok(Self {
            convs,
            drop,
            blstm: Blstm::new(c * f, h, vb.pp("blstm"))?,
            attn: AttentionPool::new(2 * h, cfg.attention_dim, vb.pp("attn"))?,
            head_drop: Dropout::new(cfg.dropout, "head"),
            fc: ser_models::layers::linear(2 * h, cfg.dense[0], true, vb.pp("fc"))?,
            out: ser_models::layers::linear(cfg.dense[0], cfg.classes, true, vb.pp("out"))?,
        })
    }
}

impl Classifier for PlainCandle {
    fn forward_t(&self, xs: &Tensor, mode: Mode) -> ser_models::candle_core::Result<Tensor> {
        let mut x = xs.clone();
        for ((conv, bn), d) in self.convs.iter().zip(&self.drop) {
            x = bn
                .forward_t(&conv.forward(&x)?, mode.is_train())?
                .relu()?
                .max_pool2d(2)?;
            x = d.forward(&x, mode)?;
        }
        let h = self.blstm.forward(&to_sequence(&x)?)?;
        let (ctx, _) = self.attn.forward(&h)?;
        let x = self
            .fc
            .forward(&self.head_drop.forward(&ctx, mode)?)?
            .relu()?;
        self.out.forward(&x)
    }

    fn regularized(&self) -> Vec<Tensor> {
        self.convs.iter().map(|(c, _)| c.weight().clone()).collect()
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
        let (device, _) = ser_models::parse_device(&args.device)?;
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
            if !args.conv_channels.is_empty() {
                cfg.conv_channels = args.conv_channels.clone();
            }
            let model = Model::new(cfg.clone(), 0, &device)?;
            let plain_store = ParamStore::new(0);
            let plain = PlainCandle::new(&cfg, plain_store.var_builder(DType::F32, &device))?;
            let (net, vars, n_params): (&dyn Classifier, _, _) = if args.plain_candle {
                let vars: Vec<_> = plain_store
                    .vars()
                    .into_iter()
                    .filter(|(n, _)| plain.is_trainable(n))
                    .collect();
                (&plain, vars, plain_store.n_params())
            } else {
                (model.net(), model.trainable_vars(), model.n_params())
            };
            let l2 = |net: &dyn Classifier| -> ser_models::candle_core::Result<Tensor> {
                let mut t = Tensor::zeros((), DType::F32, &device)?;
                for k in net.regularized() {
                    t = (t + k.sqr()?.sum_all()?)?;
                }
                t * cfg.l2
            };
            let mut opt = Adam::new(vars, AdamConfig::default())?;
            let xs = Tensor::randn(0f32, 1.0, (args.batch, c, h, w), &device)?;
            let labels: Vec<u32> = (0..args.batch as u32).map(|i| i % 7).collect();
            let labels = Tensor::new(labels, &device)?;
            let mut train = Vec::new();
            for i in 0..args.warmup + args.steps {
                let t = Instant::now();
                let logits = net.forward_t(&xs, Mode::Train { seed: i as u64 })?;
                let loss = (candle_nn::loss::cross_entropy(&logits, &labels)? + l2(net)?)?;
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
                let p = candle_nn::ops::softmax(&net.forward_t(&xs, Mode::Eval)?, 1)?;
                let _ = p.sum_all()?.to_scalar::<f32>()?;
                if i >= args.warmup {
                    infer.push(t.elapsed().as_secs_f64());
                }
            }
            let out = serde_json::json!({
                "framework": if args.plain_candle { "plain candle 0.11.1" } else { "ser (candle 0.11.1)" },
                "model": arch.as_str(),
                "threads": rayon::current_num_threads(),
                "batch": args.batch,
                "shape": [c, h, w],
                "train_step_s": median(train),
                "infer_batch_s": median(infer),
                "params": n_params,
            });
            if !args.json {
                eprintln!("{} {s} batch {}: see JSON", arch, args.batch);
            }
            println!("{out}");
        }
        Ok(())
    });
}
