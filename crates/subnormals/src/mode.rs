//! The one place in the workspace with `unsafe` code: reading and writing the current thread's
//! floating-point control register.
//!
//! - x86-64: MXCSR bits FTZ (`0x8000`, results that would be subnormal become 0) and DAZ
//!   (`0x0040`, subnormal inputs are read as 0), through `stmxcsr`/`ldmxcsr`.
//! - aarch64: FPCR bit 24 (FZ), which flushes subnormal inputs and results of f32 and f64
//!   arithmetic alike.
//! - anything else: not supported; [`set`] does nothing and returns `false`.
//!
//! Safety: the instructions only touch the control register of the thread that runs them.
//! Rust's reference calls a changed floating-point environment undefined behaviour as far as
//! the compiler's assumptions go: a constant expression folded at compile time keeps its
//! subnormals while the same expression computed at run time flushes them. Nothing in this
//! workspace depends on subnormal values (training is f32, the measure is f64 on normal
//! magnitudes), and audio and physics code sets these bits routinely for the same reason we do:
//! an operation on a subnormal costs up to ~100x a normal one on some x86 CPUs.

#![allow(unsafe_code)]

#[cfg(target_arch = "x86_64")]
const X86_FTZ_DAZ: u32 = 0x8000 | 0x0040;

#[cfg(target_arch = "aarch64")]
const ARM_FZ: u64 = 1 << 24;

/// Whether this build knows how to flush subnormals on this architecture.
pub const SUPPORTED: bool = cfg!(any(target_arch = "x86_64", target_arch = "aarch64"));

/// Switches flushing on for the calling thread; `false` where the architecture is not supported.
pub fn set() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        let csr = read_mxcsr() | X86_FTZ_DAZ;
        // SAFETY: `ldmxcsr` loads a 32-bit value from the given address into this thread's
        // MXCSR; the value is the current one with two mode bits set (no reserved bit).
        unsafe {
            core::arch::asm!("ldmxcsr [{}]", in(reg) &csr, options(nostack, readonly, preserves_flags));
        }
        true
    }
    #[cfg(target_arch = "aarch64")]
    {
        let fpcr = read_fpcr() | ARM_FZ;
        // SAFETY: writes this thread's FPCR with the FZ bit added to its current value.
        unsafe {
            core::arch::asm!("msr fpcr, {}", in(reg) fpcr, options(nomem, nostack, preserves_flags));
        }
        true
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        false
    }
}

/// Whether the calling thread flushes subnormals (both FTZ and DAZ on x86-64, FZ on aarch64).
pub fn get() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        read_mxcsr() & X86_FTZ_DAZ == X86_FTZ_DAZ
    }
    #[cfg(target_arch = "aarch64")]
    {
        read_fpcr() & ARM_FZ != 0
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        false
    }
}

#[cfg(target_arch = "x86_64")]
fn read_mxcsr() -> u32 {
    let mut csr: u32 = 0;
    // SAFETY: `stmxcsr` stores this thread's MXCSR (32 bits) at the given, valid address.
    unsafe {
        core::arch::asm!("stmxcsr [{}]", in(reg) &mut csr, options(nostack, preserves_flags));
    }
    csr
}

#[cfg(target_arch = "aarch64")]
fn read_fpcr() -> u64 {
    let fpcr: u64;
    // SAFETY: reads this thread's FPCR into a register.
    unsafe {
        core::arch::asm!("mrs {}, fpcr", out(reg) fpcr, options(nomem, nostack, preserves_flags));
    }
    fpcr
}
