//! Runs a test future on an eddy-core loop whose driver is eddy-io's
//! reactor (what the facade does, minus the time driver).

#![allow(dead_code)]

pub mod stress;

use std::future::Future;

pub fn run<F: Future>(fut: F) -> F::Output {
    let driver = eddy_io::driver::IoDriver::new().expect("reactor");
    let handle = driver.handle();
    let rt = eddy_core::Builder::new()
        .build_with_driver(Box::new(driver))
        .expect("runtime");
    let _io = handle.enter();
    rt.block_on(fut)
}
