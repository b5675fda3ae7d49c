//! [`ContextToken`], what `ContextVar::set` returns to undo that set, and
//! [`ContextResetError`], what `ContextVar::reset` returns when it cannot.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use super::map::Value;
use super::place::Origin;
#[cfg(doc)]
use super::ContextVar;

/// `v` as the `T` it holds.
///
/// # Safety
///
/// `v` must hold a `T`.
#[inline]
unsafe fn downcast<T: 'static>(v: &Value) -> &T {
    debug_assert!(v.is::<T>(), "a context variable's value has another type");
    // SAFETY: per the caller's contract; the data pointer of the
    // `Arc<dyn Any>` points at the `T`.
    unsafe { &*Arc::as_ptr(v).cast::<T>() }
}

/// What [`ContextVar::set`] returns: [`ContextVar::reset`] takes it to put
/// back the value before that `set` (asyncio's `contextvars.Token`).
///
/// It remembers the context it was made in: resetting it anywhere else is
/// an error. It is `!Send` (a context never moves to another thread while
/// current), and consumed by `reset`, so it cannot be used twice.
/// Dropping it is fine: the variable keeps its value.
///
/// # Example
///
/// ```
/// static MODE: eddy_core::task::ContextVar<&'static str> = eddy_core::task::ContextVar::new("mode");
/// eddy_core::run(async {
///     let token = MODE.set("fast");
///     assert_eq!(token.previous(), None);
///     MODE.reset(token).unwrap();
/// });
/// ```
pub struct ContextToken<T> {
    pub(super) var: u64,
    pub(super) name: &'static str,
    pub(super) previous: Option<Value>,
    pub(super) origin: Origin,
    pub(super) _value: PhantomData<fn() -> T>,
    pub(super) _not_send: PhantomData<*const ()>,
}

impl<T: 'static> ContextToken<T> {
    /// The value the variable had before the `set` that made this token
    /// (asyncio's `Token.old_value`), `None` if it had none.
    ///
    /// # Example
    ///
    /// ```
    /// static MODE: eddy_core::task::ContextVar<&'static str> = eddy_core::task::ContextVar::new("mode");
    /// eddy_core::run(async {
    ///     MODE.set("fast");
    ///     let token = MODE.set("safe");
    ///     assert_eq!(token.previous(), Some(&"fast"));
    /// });
    /// ```
    pub fn previous(&self) -> Option<&T> {
        // SAFETY: the value was under this token's variable, a `ContextVar<T>`.
        self.previous.as_ref().map(|v| unsafe { downcast::<T>(v) })
    }
}

impl<T> fmt::Debug for ContextToken<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ContextToken")
            .field("var", &self.name)
            .field("had_previous", &self.previous.is_some())
            .field("made_in", &format_args!("{}", self.origin))
            .finish()
    }
}

/// [`ContextVar::reset`] was given a token it cannot use (asyncio's
/// `ValueError`).
///
/// # Example
///
/// ```
/// static STEP: eddy_core::task::ContextVar<u32> = eddy_core::task::ContextVar::new("step");
/// eddy_core::run(async {
///     let token = STEP.set(1);
///     // A callback runs in a copy of this context, not in this context.
///     eddy_core::call_soon(move || {
///         let err = STEP.reset(token).unwrap_err();
///         assert!(err.to_string().contains("another context"));
///     });
///     eddy_core::yield_now().await;
/// });
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContextResetError {
    pub(super) var: &'static str,
    pub(super) kind: ResetKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum ResetKind {
    OtherVar { token_var: &'static str },
    OtherContext { made_in: Origin, reset_in: Origin },
}

impl fmt::Display for ContextResetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ResetKind::OtherVar { token_var } => write!(
                f,
                "ContextVar {:?} cannot reset a token made by ContextVar {token_var:?}: pass \
                 the token to the reset of the variable whose set returned it",
                self.var
            ),
            ResetKind::OtherContext { made_in, reset_in } => write!(
                f,
                "ContextVar {:?}: the token was made in {made_in} but reset was called in \
                 another context, {reset_in}; nothing was changed. Reset a token in the \
                 task (or thread, callback or ContextSnapshot::run) whose set made it, \
                 before that ends; to change the value here, set it here",
                self.var
            ),
        }
    }
}

impl std::error::Error for ContextResetError {}
