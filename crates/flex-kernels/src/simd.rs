//! Loops compiled for the CPU's best instruction set, chosen at run time, and the small
//! vectorized and parallel helpers the kernels share.
//!
//! The build's baseline on x86-64 is SSE2. [`vectorized`] runs an operation made with
//! `simd_op!` inside pulp's run-time dispatch (faer's SIMD layer), so the compiler
//! auto-vectorizes its plain loops with AVX2 and FMA where the CPU has them.

use rayon::prelude::*;

/// `$op(args...)`: a call of the `#[inline(always)]` function `$f` (which takes its arguments
/// as one tuple) as a pulp operation, so that [`vectorized`] compiles its loops inside
/// the run-time-dispatched, AVX2-enabled function. A closure or a generic `FnOnce` would be
/// called through a shim that is not inlined there, and its loops would stay SSE2.
macro_rules! simd_op {
    ($vis:vis $op:ident<$lt:lifetime>($($arg:ident: $ty:ty),*) -> $ret:ty = $f:path) => {
        $vis struct $op<$lt>($($vis $ty),*);
        impl<$lt> pulp::WithSimd for $op<$lt> {
            type Output = $ret;
            #[inline(always)]
            fn with_simd<S: pulp::Simd>(self, _: S) -> $ret {
                let $op($($arg),*) = self;
                $f(($($arg),*))
            }
        }
    };
}

/// `op` compiled for the best instruction set this CPU has (AVX2 and FMA on x86 where present,
/// chosen at run time; the build's baseline is SSE2), through pulp, faer's SIMD layer. The
/// operations are made with `simd_op!`.
#[inline(always)]
pub(crate) fn vectorized<Op: pulp::WithSimd>(op: Op) -> Op::Output {
    pulp::Arch::new().dispatch(op)
}

/// `dst = src` as a loop the compiler vectorizes in place: the rows are short (7-28 values
/// here) and a `memcpy` call per row costs more than the copy.
#[inline(always)]
pub(crate) fn copy(dst: &mut [f32], src: &[f32]) {
    for (d, &s) in dst.iter_mut().zip(src) {
        *d = s;
    }
}

/// `len` zeros, written by all of rayon's threads (an output of megabytes zeroed by the calling
/// thread alone showed up as serial time in the training profile).
pub(crate) fn zeroed<T: Copy + Default + Send + Sync>(len: usize) -> Vec<T> {
    let mut v = Vec::with_capacity(len);
    v.par_extend(rayon::iter::repeat_n(T::default(), len));
    v
}
