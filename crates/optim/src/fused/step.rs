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
    let velocity = match (velocity, k.momentum) {
        (Some(v), Some(_)) => {
            assert_eq!(v.len(), w.len());
            Some(v)
        }
        _ => None,
    };
    pulp::Arch::new().dispatch(Sgd {
        w,
        g,
        velocity,
        first,
        k,
    });
}

/// [`sgd`] as a pulp operation, one branch-free loop per case (as [`Adam`]).
struct Sgd<'a> {
    w: &'a mut [f32],
    g: &'a [f32],
    velocity: Option<&'a mut [f32]>,
    first: bool,
    k: &'a SgdStep,
}

impl pulp::WithSimd for Sgd<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _: S) {
        let Sgd {
            w,
            g,
            velocity,
            first,
            k,
        } = self;
        let wd = k.weight_decay;
        match (velocity, k.momentum) {
            (Some(v), Some((mom, undamped, nesterov))) => {
                let m = (mom, undamped);
                match (first, nesterov, wd.is_some()) {
                    (true, false, false) => momentum_loop::<true, false, false>(w, g, v, m, k),
                    (true, false, true) => momentum_loop::<true, false, true>(w, g, v, m, k),
                    (true, true, false) => momentum_loop::<true, true, false>(w, g, v, m, k),
                    (true, true, true) => momentum_loop::<true, true, true>(w, g, v, m, k),
                    (false, false, false) => momentum_loop::<false, false, false>(w, g, v, m, k),
                    (false, false, true) => momentum_loop::<false, false, true>(w, g, v, m, k),
                    (false, true, false) => momentum_loop::<false, true, false>(w, g, v, m, k),
                    (false, true, true) => momentum_loop::<false, true, true>(w, g, v, m, k),
                }
            }
            _ => match wd {
                Some(wd) => {
                    for (w, &g) in w.iter_mut().zip(g) {
                        let g = *w * wd + g;
                        *w -= g * k.lr;
                    }
                }
                None => {
                    for (w, &g) in w.iter_mut().zip(g) {
                        *w -= g * k.lr;
                    }
                }
            },
        }
    }
}

#[inline(always)]
fn momentum_loop<const FIRST: bool, const NESTEROV: bool, const DECAY: bool>(
    w: &mut [f32],
    g: &[f32],
    velocity: &mut [f32],
    (mom, undamped): (f32, f32),
    k: &SgdStep,
) {
    let wd = k.weight_decay.unwrap_or(0.0);
    for ((w, &g), v) in w.iter_mut().zip(g).zip(velocity.iter_mut()) {
        let g = if DECAY { *w * wd + g } else { g };
        *v = if FIRST { g } else { g * undamped + *v * mom };
        let step = if NESTEROV { *v * mom + g } else { *v };
        *w -= step * k.lr;
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
    assert!(b.grad_avg.as_ref().is_none_or(|a| a.len() == n));
    // A momentum buffer only counts with a momentum factor (as before: no factor, no buffer).
    let momentum = match k.momentum {
        Some(_) => b.momentum,
        None => None,
    };
    assert!(momentum.as_ref().is_none_or(|a| a.len() == n));
    pulp::Arch::new().dispatch(RmsProp {
        w,
        g,
        square_avg: b.square_avg,
        grad_avg: b.grad_avg,
        momentum,
        first,
        k,
    });
}

/// [`rmsprop`] as a pulp operation, one branch-free loop per case (as [`Adam`]).
struct RmsProp<'a> {
    w: &'a mut [f32],
    g: &'a [f32],
    square_avg: &'a mut [f32],
    grad_avg: Option<&'a mut [f32]>,
    momentum: Option<&'a mut [f32]>,
    first: bool,
    k: &'a RmsPropStep,
}

impl pulp::WithSimd for RmsProp<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _: S) {
        let RmsProp {
            w,
            g,
            square_avg,
            grad_avg,
            momentum,
            first,
            k,
        } = self;
        // Absent buffers are empty slices their loops never touch.
        let (centred, with_momentum) = (grad_avg.is_some(), momentum.is_some());
        let ga = grad_avg.unwrap_or_default();
        let buf = momentum.unwrap_or_default();
        let b = (square_avg, ga, buf);
        macro_rules! pick {
            ($($f:literal $d:literal $c:literal $m:literal),*) => {
                match (first, k.weight_decay.is_some(), centred, with_momentum) {
                    $(($f, $d, $c, $m) => rmsprop_loop::<$f, $d, $c, $m>(w, g, b, k),)*
                }
            };
        }
        pick!(
            true true true true, true true true false, true true false true, true true false false,
            true false true true, true false true false, true false false true, true false false false,
            false true true true, false true true false, false true false true, false true false false,
            false false true true, false false true false, false false false true, false false false false
        );
    }
}

#[inline(always)]
fn rmsprop_loop<const FIRST: bool, const DECAY: bool, const CENTRED: bool, const MOMENTUM: bool>(
    w: &mut [f32],
    g: &[f32],
    (square_avg, grad_avg, buf): (&mut [f32], &mut [f32], &mut [f32]),
    k: &RmsPropStep,
) {
    let n = w.len();
    let (g, sq) = (&g[..n], &mut square_avg[..n]);
    // Sliced to `n` so that the compiler drops the bounds checks of the loop below.
    let ga = if CENTRED {
        &mut grad_avg[..n]
    } else {
        &mut grad_avg[..0]
    };
    let buf = if MOMENTUM {
        &mut buf[..n]
    } else {
        &mut buf[..0]
    };
    let wd = k.weight_decay.unwrap_or(0.0);
    let mom = k.momentum.unwrap_or(0.0);
    for i in 0..n {
        let g = if DECAY { w[i] * wd + g[i] } else { g[i] };
        sq[i] = if FIRST {
            (g * g) * k.one_minus_alpha
        } else {
            sq[i] * k.alpha + (g * g) * k.one_minus_alpha
        };
        let avg = if CENTRED {
            let centred = g * k.one_minus_alpha;
            ga[i] = if FIRST {
                centred
            } else {
                ga[i] * k.alpha + centred
            };
            sq[i] - ga[i] * ga[i]
        } else {
            sq[i]
        };
        let d = g / (avg.sqrt() + k.eps);
        let step = if MOMENTUM {
            buf[i] = if FIRST { d } else { buf[i] * mom + d };
            buf[i]
        } else {
            d
        };
        w[i] -= step * k.lr;
    }
}
