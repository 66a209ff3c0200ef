//! A bidirectional LSTM on the CPU as one autograd node: both directions over the whole
//! sequence, forward and backward pass, each direction on its own thread.
//!
//! As candle operations ([`Lstm`](crate::layers::Lstm)'s steps) every step of every
//! direction is about fifteen nodes, each a small tensor, its own pass over memory and, in
//! the backward pass, a zero-filled gradient and an addition; and candle runs them one after
//! another on one thread, however many cores wait. One node computes the input projections
//! of all steps in one product, keeps the gates for the backward pass (back-propagation
//! through time by hand, as PyTorch's CPU kernel does), and runs the two directions side by
//! side. Each direction does the same arithmetic on any number of threads, so the numbers do
//! not depend on the machine. The numbers are checked against the separate nodes
//! (`fused_blstm_is_the_separate_nodes`) and against PyTorch (`tests/parity.rs`).
//!
//! Candle's custom operations take three inputs, the layer has nine (input and, per
//! direction, two weight matrices and two biases): the four matrices enter as one,
//! `cat([W_ih_fw, W_hh_fw, W_ih_bw, W_hh_bw], 1)`, the four biases as another; candle splits
//! their gradients back.

use std::sync::{Arc, Mutex};

use candle_core::{CpuStorage, CustomOp3, DType, Layout, Shape, Tensor};

use crate::ops::{MatRef, f32_slice, matmul_into, with_slice, zeroed};
use crate::par::join;

/// One direction's forward pass, kept for its backward pass (all time-major, `[T, B, ·]`):
/// the gates after their nonlinearities (i, f, g, o), the cells and the outputs.
struct Trace {
    gates: Vec<f32>,
    cells: Vec<f32>,
    hidden: Vec<f32>,
}

/// The sizes of one call: batch, steps, input features, hidden units.
#[derive(Debug, Clone, Copy)]
struct Dims {
    b: usize,
    t: usize,
    i: usize,
    h: usize,
}

impl Dims {
    /// The row stride of the concatenated weights, `2·(I + H)`.
    fn w_row(&self) -> usize {
        2 * (self.i + self.h)
    }

    /// `W_ih` of direction `d` (`[4H, I]`, row stride [`w_row`](Self::w_row)) as the
    /// right-hand `I × 4H` factor `W_ihᵀ`.
    fn w_ih_t<'a>(&self, w: &'a [f32], d: usize) -> MatRef<'a> {
        MatRef::strided(&w[d * (self.i + self.h)..], 1, self.w_row())
    }

    /// `W_hh` of direction `d` as `W_hhᵀ` (`H × 4H`).
    fn w_hh_t<'a>(&self, w: &'a [f32], d: usize) -> MatRef<'a> {
        MatRef::strided(&w[d * (self.i + self.h) + self.i..], 1, self.w_row())
    }

    /// `W_ih` of direction `d`, `4H × I`.
    fn w_ih<'a>(&self, w: &'a [f32], d: usize) -> MatRef<'a> {
        MatRef::strided(&w[d * (self.i + self.h)..], self.w_row(), 1)
    }

    /// `W_hh` of direction `d`, `4H × H`.
    fn w_hh<'a>(&self, w: &'a [f32], d: usize) -> MatRef<'a> {
        MatRef::strided(&w[d * (self.i + self.h) + self.i..], self.w_row(), 1)
    }

    /// The steps of direction `d` in the order it runs: forwards, or backwards.
    fn order(&self, d: usize) -> impl Iterator<Item = usize> + Clone {
        let t = self.t;
        (0..t).map(move |s| if d == 0 { s } else { t - 1 - s })
    }
}

fn sigmoid(v: f32) -> f32 {
    1.0 / (1.0 + (-v).exp())
}

/// `[B, T, I]` as time-major `[T, B, I]`.
fn time_major(x: &[f32], dims: Dims) -> Vec<f32> {
    let Dims { b, t, i, .. } = dims;
    let mut out = Vec::with_capacity(b * t * i);
    for tt in 0..t {
        for bb in 0..b {
            out.extend_from_slice(&x[(bb * t + tt) * i..(bb * t + tt + 1) * i]);
        }
    }
    out
}

/// One direction's forward pass over the time-major input `xt`.
fn forward_direction(xt: &[f32], w: &[f32], bias: &[f32], d: usize, dims: Dims) -> Trace {
    let Dims { b, t, i, h } = dims;
    let g4 = 4 * h;
    let step = b * g4;
    // Pre-activations of every step: b_ih + b_hh + x·W_ihᵀ, in one product.
    let (b_ih, b_hh) = (
        &bias[d * 8 * h..d * 8 * h + g4],
        &bias[d * 8 * h + g4..(d + 1) * 8 * h],
    );
    let row: Vec<f32> = b_ih.iter().zip(b_hh).map(|(p, q)| p + q).collect();
    let mut gates = Vec::with_capacity(t * step);
    for _ in 0..t * b {
        gates.extend_from_slice(&row);
    }
    let one = gemm::Parallelism::None;
    matmul_into(
        &mut gates,
        (t * b, g4, i),
        MatRef::rows(xt, i),
        dims.w_ih_t(w, d),
        true,
        one,
    );
    let mut cells = zeroed(t * b * h);
    let mut hidden = zeroed(t * b * h);
    let mut prev: Option<usize> = None;
    for tt in dims.order(d) {
        let a = &mut gates[tt * step..(tt + 1) * step];
        if let Some(p) = prev {
            let hp = &hidden[p * b * h..(p + 1) * b * h];
            matmul_into(
                a,
                (b, g4, h),
                MatRef::rows(hp, h),
                dims.w_hh_t(w, d),
                true,
                one,
            );
        }
        for bb in 0..b {
            let ab = &mut a[bb * g4..(bb + 1) * g4];
            for j in 0..h {
                let ig = sigmoid(ab[j]);
                let fg = sigmoid(ab[h + j]);
                let gg = ab[2 * h + j].tanh();
                let og = sigmoid(ab[3 * h + j]);
                let c_prev = prev.map_or(0.0, |p| cells[(p * b + bb) * h + j]);
                let c = fg * c_prev + ig * gg;
                cells[(tt * b + bb) * h + j] = c;
                hidden[(tt * b + bb) * h + j] = og * c.tanh();
                (ab[j], ab[h + j], ab[2 * h + j], ab[3 * h + j]) = (ig, fg, gg, og);
            }
        }
        prev = Some(tt);
    }
    Trace {
        gates,
        cells,
        hidden,
    }
}

/// One direction's gradients: (`∂x` time-major `[T, B, I]`, `∂W_ih`, `∂W_hh`, `∂b`) from
/// the output gradient `gy` (`[B, T, 2H]`).
fn backward_direction(
    xt: &[f32],
    w: &[f32],
    gy: &[f32],
    tr: &Trace,
    d: usize,
    dims: Dims,
) -> (Vec<f32>, Vec<f32>, Vec<f32>, Vec<f32>) {
    let Dims { b, t, i, h } = dims;
    let g4 = 4 * h;
    let step = b * g4;
    let one = gemm::Parallelism::None;
    // ∂ of each gate's pre-activation, time-major [T, B, 4H].
    let mut da = zeroed(t * step);
    let mut dh_next = zeroed(b * h);
    let mut dc_next = zeroed(b * h);
    let order: Vec<usize> = dims.order(d).collect();
    for (s, &tt) in order.iter().enumerate().rev() {
        let prev = s.checked_sub(1).map(|p| order[p]);
        let gt = &tr.gates[tt * step..(tt + 1) * step];
        let dat = &mut da[tt * step..(tt + 1) * step];
        for bb in 0..b {
            for j in 0..h {
                let k = bb * h + j;
                let dh = gy[(bb * t + tt) * 2 * h + d * h + j] + dh_next[k];
                let (ig, fg, gg, og) = (
                    gt[bb * g4 + j],
                    gt[bb * g4 + h + j],
                    gt[bb * g4 + 2 * h + j],
                    gt[bb * g4 + 3 * h + j],
                );
                let tc = tr.cells[tt * b * h + k].tanh();
                let c_prev = prev.map_or(0.0, |p| tr.cells[p * b * h + k]);
                let dc = dh * og * (1.0 - tc * tc) + dc_next[k];
                dc_next[k] = dc * fg;
                let a = &mut dat[bb * g4..(bb + 1) * g4];
                a[j] = dc * gg * ig * (1.0 - ig);
                a[h + j] = dc * c_prev * fg * (1.0 - fg);
                a[2 * h + j] = dc * ig * (1.0 - gg * gg);
                a[3 * h + j] = dh * tc * og * (1.0 - og);
            }
        }
        if prev.is_some() {
            // ∂h of the previous step: ∂a · W_hh.
            matmul_into(
                &mut dh_next,
                (b, h, g4),
                MatRef::rows(dat, g4),
                dims.w_hh(w, d),
                false,
                one,
            );
        }
    }
    // ∂x = ∂a · W_ih and ∂W_ih = ∂aᵀ · x over all steps at once.
    let mut dxt = zeroed(t * b * i);
    matmul_into(
        &mut dxt,
        (t * b, i, g4),
        MatRef::rows(&da, g4),
        dims.w_ih(w, d),
        false,
        one,
    );
    let mut dw_ih = zeroed(g4 * i);
    matmul_into(
        &mut dw_ih,
        (g4, i, t * b),
        MatRef::transposed(&da, g4),
        MatRef::rows(xt, i),
        false,
        one,
    );
    // ∂W_hh = Σ ∂a_t ᵀ · h_prev(t) over the steps that had one: in time-major order the
    // previous step is the row block before (forwards) or after (backwards).
    let mut dw_hh = zeroed(g4 * h);
    if t > 1 {
        let n = (t - 1) * b;
        let (da_rows, h_rows) = if d == 0 {
            (&da[step..], &tr.hidden[..n * h])
        } else {
            (&da[..n * g4], &tr.hidden[b * h..])
        };
        matmul_into(
            &mut dw_hh,
            (g4, h, n),
            MatRef::transposed(da_rows, g4),
            MatRef::rows(h_rows, h),
            false,
            one,
        );
    }
    let mut db = vec![0.0f32; g4];
    for row in da.chunks_exact(g4) {
        db.iter_mut().zip(row).for_each(|(s, v)| *s += v);
    }
    (dxt, dw_ih, dw_hh, db)
}

struct BlstmOp {
    hidden: usize,
    /// The time-major input and both directions' traces, from the forward pass.
    saved: Mutex<Option<(Vec<f32>, [Trace; 2])>>,
}

impl BlstmOp {
    fn dims(&self, x: &Layout, w: &Layout, bias: &Layout) -> candle_core::Result<Dims> {
        let (b, t, i) = x.shape().dims3()?;
        let h = self.hidden;
        let (wr, wc) = w.shape().dims2()?;
        if b == 0
            || t == 0
            || h == 0
            || (wr, wc) != (4 * h, 2 * (i + h))
            || bias.shape().elem_count() != 16 * h
        {
            candle_core::bail!(
                "blstm: input {:?}, weights {:?} and biases {:?} do not fit {h} hidden units",
                x.dims(),
                w.dims(),
                bias.dims()
            );
        }
        Ok(Dims { b, t, i, h })
    }
}

impl CustomOp3 for BlstmOp {
    fn name(&self) -> &'static str {
        "ser-blstm"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let dims = self.dims(l1, l2, l3)?;
        let x = f32_slice(s1, l1, "blstm input")?;
        let w = f32_slice(s2, l2, "blstm weights")?;
        let bias = f32_slice(s3, l3, "blstm biases")?;
        let xt = time_major(x, dims);
        let (fw, bw) = join(
            || forward_direction(&xt, w, bias, 0, dims),
            || forward_direction(&xt, w, bias, 1, dims),
        );
        let Dims { b, t, h, .. } = dims;
        let mut y = Vec::with_capacity(b * t * 2 * h);
        for bb in 0..b {
            for tt in 0..t {
                let r = (tt * b + bb) * h..(tt * b + bb + 1) * h;
                y.extend_from_slice(&fw.hidden[r.clone()]);
                y.extend_from_slice(&bw.hidden[r]);
            }
        }
        *self.saved.lock().unwrap_or_else(|e| e.into_inner()) = Some((xt, [fw, bw]));
        Ok((CpuStorage::F32(y), Shape::from((b, t, 2 * h))))
    }

    #[allow(clippy::type_complexity)]
    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        bias: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let dims = self.dims(x.layout(), w.layout(), bias.layout())?;
        let Dims { b, t, i, h } = dims;
        if grad.dims() != [b, t, 2 * h] {
            candle_core::bail!("blstm backward: gradient {:?}", grad.dims());
        }
        let saved = self.saved.lock().unwrap_or_else(|e| e.into_inner());
        let Some((xt, [fw, bw])) = saved.as_ref() else {
            candle_core::bail!("blstm backward before forward");
        };
        let grad = grad.detach().contiguous()?;
        let w = w.detach().contiguous()?;
        let (g_fw, g_bw) = with_slice(&w, |ws| {
            with_slice(&grad, |gy| {
                join(
                    || backward_direction(xt, ws, gy, fw, 0, dims),
                    || backward_direction(xt, ws, gy, bw, 1, dims),
                )
            })
        })??;
        // ∂x: both directions' time-major gradients, summed, back to [B, T, I].
        let mut dx = Vec::with_capacity(b * t * i);
        for bb in 0..b {
            for tt in 0..t {
                let r = (tt * b + bb) * i..(tt * b + bb + 1) * i;
                dx.extend(g_fw.0[r.clone()].iter().zip(&g_bw.0[r]).map(|(p, q)| p + q));
            }
        }
        // ∂W in the concatenated layout: per row, [∂W_ih_fw, ∂W_hh_fw, ∂W_ih_bw, ∂W_hh_bw].
        let mut dw = Vec::with_capacity(4 * h * 2 * (i + h));
        for r in 0..4 * h {
            for g in [&g_fw, &g_bw] {
                dw.extend_from_slice(&g.1[r * i..(r + 1) * i]);
                dw.extend_from_slice(&g.2[r * h..(r + 1) * h]);
            }
        }
        // ∂b_ih = ∂b_hh = the pre-activations' gradient, per direction.
        let mut db = Vec::with_capacity(16 * h);
        for g in [&g_fw, &g_bw] {
            db.extend_from_slice(&g.3);
            db.extend_from_slice(&g.3);
        }
        let cpu = &candle_core::Device::Cpu;
        Ok((
            Some(Tensor::from_vec(dx, (b, t, i), cpu)?),
            Some(Tensor::from_vec(dw, (4 * h, 2 * (i + h)), cpu)?),
            Some(Tensor::from_vec(db, 16 * h, cpu)?),
        ))
    }
}

/// The smallest batch that takes the node ([`fits`]): below it (the live recognizer's single
/// windows) the candle steps are faster, since the node copies the four weight matrices
/// into one on every call (4.7 MB at the research's sizes) and packs them for a product of
/// a few rows (one window: 4.3–4.9 ms per forward pass through the node against 2.9–3.8
/// ms through the steps, one thread).
const MIN_BATCH: usize = 8;

/// Whether [`blstm`] runs: on the CPU in f32, a `[B ≥ MIN_BATCH, T ≥ 1, in_dim]` input.
pub(crate) fn fits(x: &Tensor, in_dim: usize) -> bool {
    x.device().is_cpu()
        && x.dtype() == DType::F32
        && x.dims3()
            .is_ok_and(|(b, t, i)| b >= MIN_BATCH && t > 0 && i == in_dim)
}

/// The bidirectional LSTM as one node: `x` `[B, T, I]` → `[B, T, 2H]`, the forward
/// direction's outputs then the backward direction's, each `[W_ih, W_hh, b_ih, b_hh]` in
/// PyTorch's layout and gate order (i, f, g, o).
///
/// # Errors
/// Shapes that do not fit; device and dtype errors (see [`fits`]).
pub(crate) fn blstm(
    x: &Tensor,
    fw: [&Tensor; 4],
    bw: [&Tensor; 4],
    hidden: usize,
) -> candle_core::Result<Tensor> {
    let w = Tensor::cat(&[fw[0], fw[1], bw[0], bw[1]], 1)?;
    let bias = Tensor::cat(&[fw[2], fw[3], bw[2], bw[3]], 0)?;
    let op = BlstmOp {
        hidden,
        saved: Mutex::new(None),
    };
    x.contiguous()?
        .apply_op3_arc(&w, &bias, Arc::new(Box::new(op)))
}
