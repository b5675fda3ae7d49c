//! The driver stack behind a facade [`Runtime`](crate::Runtime): which
//! drivers exist (by cargo feature), how they nest, and the guards that make
//! them current on the loop thread.
//!
//! The stack is `core loop → time driver → I/O driver`, with eddy-core's
//! thread-parking driver at the bottom when the reactor is compiled out.
//! This file is the only place in the facade that asks which features are
//! on; every other module is gated as a whole in `lib.rs`.

use eddy_core::park::Park;

/// Settings the drivers take from the facade's `Builder`.
#[derive(Clone, Debug, Default)]
pub(crate) struct StackConfig {
    /// Start the test clock paused (`Builder::start_paused`).
    #[cfg(feature = "time")]
    pub(crate) start_paused: bool,
}

/// Handles to the drivers of one runtime, kept so the loop thread can
/// enter them.
#[derive(Clone, Debug)]
pub(crate) struct Stack {
    #[cfg(feature = "time")]
    pub(crate) time: eddy_time::Handle,
    #[cfg(feature = "io")]
    pub(crate) io: eddy_io::driver::Handle,
}

/// While alive, every driver of a [`Stack`] is current on this thread.
/// Fields drop in reverse order of entering.
pub(crate) struct Entered {
    #[cfg(feature = "io")]
    _io: eddy_io::driver::EnterGuard,
    #[cfg(feature = "time")]
    _time: eddy_time::EnterGuard,
    _not_send: std::marker::PhantomData<*const ()>,
}

impl Stack {
    /// Builds the drivers, innermost first, and returns their handles with
    /// the outermost driver for the core loop to park on.
    pub(crate) fn build(config: &StackConfig) -> std::io::Result<(Stack, Box<dyn Park>)> {
        let _ = config;
        #[cfg(feature = "io")]
        let inner = eddy_io::driver::IoDriver::builder().build()?;
        #[cfg(feature = "io")]
        let io = inner.handle();
        #[cfg(not(feature = "io"))]
        let inner = eddy_core::park::ThreadPark::new();
        #[cfg(feature = "time")]
        let outer = eddy_time::DriverBuilder::new()
            .start_paused(config.start_paused)
            .build(inner);
        #[cfg(not(feature = "time"))]
        let outer = inner;
        let stack = Stack {
            #[cfg(feature = "time")]
            time: outer.handle(),
            #[cfg(feature = "io")]
            io,
        };
        Ok((stack, Box::new(outer)))
    }

    /// The drivers entered on this thread, if a facade runtime is running
    /// here.
    pub(crate) fn try_current() -> Option<Stack> {
        Some(Stack {
            #[cfg(feature = "time")]
            time: eddy_time::Handle::try_current()?,
            #[cfg(feature = "io")]
            io: eddy_io::driver::Handle::try_current()?,
        })
    }

    /// Makes every driver current on this thread until the guard drops.
    pub(crate) fn enter(&self) -> Entered {
        Entered {
            #[cfg(feature = "io")]
            _io: self.io.enter(),
            #[cfg(feature = "time")]
            _time: self.time.enter(),
            _not_send: std::marker::PhantomData,
        }
    }
}
