//! The futures of a put, a get and a `join` over a [`QueueCore`]: each
//! polls the core and leaves its place in line when dropped.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::{Getters, Joiners, Putters, QueueCore, Store};
use crate::budget::budgeted;
use crate::waitlist::Registration;

/// Future of a put over a [`QueueCore`]; `Err` hands the item back.
pub(crate) struct Put<'a, T, S: Store<T>> {
    pub(crate) core: &'a QueueCore<T, S>,
    pub(crate) item: Option<T>,
    pub(crate) reg: Registration,
}

// The item is never pinned: it is moved into the queue by value.
impl<T, S: Store<T>> Unpin for Put<'_, T, S> {}

impl<T, S: Store<T>> Future for Put<'_, T, S> {
    type Output = Result<(), T>;
    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), T>> {
        let this = self.get_mut();
        budgeted(cx, |cx| {
            this.core.poll_put(&mut this.reg, &mut this.item, cx)
        })
    }
}

impl<T, S: Store<T>> Drop for Put<'_, T, S> {
    fn drop(&mut self) {
        self.reg.cancel(&Putters(self.core));
    }
}

pub(crate) struct Get<'a, T, S: Store<T>> {
    pub(crate) core: &'a QueueCore<T, S>,
    pub(crate) reg: Registration,
}

impl<T, S: Store<T>> Future for Get<'_, T, S> {
    type Output = Result<T, ()>;
    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T, ()>> {
        let this = self.get_mut();
        budgeted(cx, |cx| this.core.poll_get(&mut this.reg, cx))
    }
}

impl<T, S: Store<T>> Drop for Get<'_, T, S> {
    fn drop(&mut self) {
        Getters::cancel(self.core, &mut self.reg);
    }
}

pub(crate) struct Join<'a, T, S: Store<T>> {
    pub(crate) core: &'a QueueCore<T, S>,
    pub(crate) reg: Registration,
}

impl<T, S: Store<T>> Future for Join<'_, T, S> {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        budgeted(cx, |cx| this.core.poll_join(&mut this.reg, cx))
    }
}

impl<T, S: Store<T>> Drop for Join<'_, T, S> {
    fn drop(&mut self) {
        self.reg.cancel(&Joiners(self.core));
    }
}
