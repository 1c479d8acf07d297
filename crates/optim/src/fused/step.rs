//! The update rules as single passes over f32 slices: every element of the gradient, the
//! optimizer's moments and the parameter is read once and written once.
//!
//! Each line is the same IEEE operation, in the same order, as burn 0.22's optimizers compute
//! with one tensor operation per line (`burn-optim`'s `adam.rs`, `rmsprop.rs`, `sgd.rs`,
//! `momentum.rs`, `decay.rs`): no fused multiply-add, the scalars rounded to f32 as burn rounds
//! them, so both give the same bits (the tests step both side by side).

/// Adam's constants for one step `t` (1-based), as burn computes them in f32.
#[derive(Debug, Clone, Copy)]
pub struct AdamStep {
    pub beta1: f32,
    pub beta2: f32,
    /// `1 - beta1`, `1 - beta2` (f32 arithmetic).
    pub one_minus_beta1: f32,
    pub one_minus_beta2: f32,
    /// `sqrt(1 - beta2^t) / (1 - beta1^t)`.
    pub factor: f32,
    /// `eps * sqrt(1 - beta2^t)`.
    pub eps: f32,
    pub lr: f32,
    pub weight_decay: Option<f32>,
}

impl AdamStep {
    pub fn new(
        beta1: f32,
        beta2: f32,
        eps: f32,
        weight_decay: Option<f32>,
        lr: f64,
        t: usize,
    ) -> Self {
        let t = t as i32;
        let bc2 = (1.0 - beta2.powi(t)).sqrt();
        AdamStep {
            beta1,
            beta2,
            one_minus_beta1: 1.0 - beta1,
            one_minus_beta2: 1.0 - beta2,
            factor: bc2 / (1.0 - beta1.powi(t)),
            eps: eps * bc2,
            lr: lr as f32,
            weight_decay,
        }
    }
}

/// One Adam step. `first`: the moments hold nothing yet (they are written, not read).
pub fn adam(w: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32], first: bool, k: &AdamStep) {
    assert!(g.len() == w.len() && m.len() == w.len() && v.len() == w.len());
    pulp::Arch::new().dispatch(Adam {
        w,
        g,
        m,
        v,
        first,
        k,
    });
}

/// [`adam`] as a pulp operation: its loops are compiled inside the run-time-dispatched function
/// for the CPU's instruction set (AVX2 where present; the build's baseline is SSE2), one loop
/// per case so that none branches per element.
struct Adam<'a> {
    w: &'a mut [f32],
    g: &'a [f32],
    m: &'a mut [f32],
    v: &'a mut [f32],
    first: bool,
    k: &'a AdamStep,
}

impl pulp::WithSimd for Adam<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _: S) {
        let Adam {
            w,
            g,
            m,
            v,
            first,
            k,
        } = self;
        match (first, k.weight_decay) {
            (true, None) => adam_loop::<true>(w, g, m, v, k, None),
            (false, None) => adam_loop::<false>(w, g, m, v, k, None),
            (true, Some(wd)) => adam_loop::<true>(w, g, m, v, k, Some(wd)),
            (false, Some(wd)) => adam_loop::<false>(w, g, m, v, k, Some(wd)),
        }
    }
}

#[inline(always)]
fn adam_loop<const FIRST: bool>(
    w: &mut [f32],
    g: &[f32],
    m: &mut [f32],
    v: &mut [f32],
    k: &AdamStep,
    weight_decay: Option<f32>,
) {
    for (((w, &g), m), v) in w.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
        let g = match weight_decay {
            Some(wd) => *w * wd + g,
            None => g,
        };
        if FIRST {
            *m = g * k.one_minus_beta1;
            *v = (g * g) * k.one_minus_beta2;
        } else {
            *m = *m * k.beta1 + g * k.one_minus_beta1;
            *v = *v * k.beta2 + (g * g) * k.one_minus_beta2;
        }
        let update = (*m * k.factor) / (v.sqrt() + k.eps);
        *w -= update * k.lr;
    }
}

/// SGD's constants, as burn rounds them.
#[derive(Debug, Clone, Copy)]
pub struct SgdStep {
    /// Momentum factor, `1 - dampening` and Nesterov (none: plain SGD).
    pub momentum: Option<(f32, f32, bool)>,
    pub lr: f32,
    pub weight_decay: Option<f32>,
}

/// One SGD step; `velocity` is `Some` with momentum. `first`: the velocity holds nothing yet.
pub fn sgd(w: &mut [f32], g: &[f32], velocity: Option<&mut [f32]>, first: bool, k: &SgdStep) {
    assert_eq!(g.len(), w.len());
    let decayed = |w: f32, g: f32| match k.weight_decay {
        Some(wd) => w * wd + g,
        None => g,
    };
    match (velocity, k.momentum) {
        (Some(vel), Some((mom, undamped, nesterov))) => {
            assert_eq!(vel.len(), w.len());
            for ((w, &g), v) in w.iter_mut().zip(g).zip(vel.iter_mut()) {
                let g = decayed(*w, g);
                *v = if first { g } else { g * undamped + *v * mom };
                let step = if nesterov { *v * mom + g } else { *v };
                *w -= step * k.lr;
            }
        }
        _ => {
            for (w, &g) in w.iter_mut().zip(g) {
                let g = decayed(*w, g);
                *w -= g * k.lr;
            }
        }
    }
}

/// RMSProp's constants, as burn rounds them.
#[derive(Debug, Clone, Copy)]
pub struct RmsPropStep {
    pub alpha: f32,
    /// `1 - alpha` (f32).
    pub one_minus_alpha: f32,
    pub eps: f32,
    /// Momentum factor (none: no momentum buffer).
    pub momentum: Option<f32>,
    pub lr: f32,
    pub weight_decay: Option<f32>,
}

/// RMSProp's per-parameter buffers: the squared-gradient average, the gradient average
/// (centered only) and the momentum buffer (with momentum only).
#[derive(Debug)]
pub struct RmsPropBuffers<'a> {
    pub square_avg: &'a mut [f32],
    pub grad_avg: Option<&'a mut [f32]>,
    pub momentum: Option<&'a mut [f32]>,
}

/// One RMSProp step. `first`: the buffers hold nothing yet.
pub fn rmsprop(w: &mut [f32], g: &[f32], b: RmsPropBuffers<'_>, first: bool, k: &RmsPropStep) {
    let n = w.len();
    assert!(g.len() == n && b.square_avg.len() == n);
    let mut grad_avg = b.grad_avg;
    let mut buf = b.momentum;
    assert!(grad_avg.as_ref().is_none_or(|a| a.len() == n));
    assert!(buf.as_ref().is_none_or(|a| a.len() == n));
    for i in 0..n {
        let g = match k.weight_decay {
            Some(wd) => w[i] * wd + g[i],
            None => g[i],
        };
        let sq = &mut b.square_avg[i];
        *sq = if first {
            (g * g) * k.one_minus_alpha
        } else {
            *sq * k.alpha + (g * g) * k.one_minus_alpha
        };
        let avg = match grad_avg.as_deref_mut() {
            Some(ga) => {
                let centred = g * k.one_minus_alpha;
                ga[i] = if first {
                    centred
                } else {
                    ga[i] * k.alpha + centred
                };
                *sq - ga[i] * ga[i]
            }
            None => *sq,
        };
        let d = g / (avg.sqrt() + k.eps);
        let step = match (buf.as_deref_mut(), k.momentum) {
            (Some(buf), Some(mom)) => {
                buf[i] = if first { d } else { buf[i] * mom + d };
                buf[i]
            }
            _ => d,
        };
        w[i] -= step * k.lr;
    }
}
