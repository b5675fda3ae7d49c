//! `#[eddy::main]` and `#[eddy::test]`: run an `async fn` on a fresh eddy
//! runtime.
//!
//! **What it is for.** Turning `async fn main()` and `async fn` tests into
//! ordinary functions that build an `eddy::Runtime`, run the body with
//! `block_on`, and shut the runtime down (asyncio's `asyncio.run(main())`).
//!
//! **What it is not for.** Anything else: it only rewrites the function.
//! Use it through the facade (`eddy::main`, `eddy::test`), which re-exports
//! it; this crate's paths assume a dependency named `eddy` unless told
//! otherwise with `crate = "..."`.
//!
//! # Options
//!
//! | option | effect |
//! |---|---|
//! | `debug = true` | `Builder::debug(true)`: report slow polls and a blocked loop |
//! | `start_paused = true` | start with the test clock paused (timers auto-advance) |
//! | `slow_poll_ms = N` | `Builder::slow_poll_threshold(N ms)` (reported only in debug mode) |
//! | `crate = "path"` | where the facade is, if renamed: `crate = "eddy2"` for `eddy2 = { package = "eddy", .. }` |
//!
//! # Example
//!
//! ```ignore
//! #[eddy::main(debug = true)]
//! async fn main() {
//!     let task = eddy::spawn(async { 1 + 1 });
//!     assert_eq!(task.await.unwrap(), 2);
//! }
//! ```
#![deny(missing_docs)]
#![warn(clippy::undocumented_unsafe_blocks)]
#![warn(clippy::missing_errors_doc)]

use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;
use quote::quote;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, ItemFn, Lit, Meta, Token};

/// Settings collected from the attribute's arguments.
struct Options {
    debug: Option<bool>,
    start_paused: Option<bool>,
    slow_poll_ms: Option<u64>,
    krate: syn::Path,
}

/// The valid options, for error messages.
const VALID: &str = "debug = true, start_paused = true, slow_poll_ms = 50, crate = \"eddy\"";

fn parse_options(args: TokenStream2, attr: &str) -> syn::Result<Options> {
    let mut opts = Options {
        debug: None,
        start_paused: None,
        slow_poll_ms: None,
        krate: syn::parse_quote!(::eddy),
    };
    let metas = Punctuated::<Meta, Token![,]>::parse_terminated
        .parse2(args)
        .map_err(|e| {
            syn::Error::new(
                e.span(),
                format!("#[eddy::{attr}] takes `name = value` options: {VALID}"),
            )
        })?;
    let mut seen: Vec<String> = Vec::new();
    for meta in metas {
        // The option's name as written, `a::b` included, for messages.
        let name = meta
            .path()
            .segments
            .iter()
            .map(|s| s.ident.to_string())
            .collect::<Vec<_>>()
            .join("::");
        let pair = match meta {
            Meta::NameValue(pair) => pair,
            // `start_paused` alone, or `debug(true)`: say which option,
            // there, and how to write it.
            other => {
                let hint = match name.as_str() {
                    "debug" | "start_paused" => format!("{name} = true"),
                    "slow_poll_ms" => format!("{name} = 50"),
                    "crate" => "crate = \"eddy\"".to_string(),
                    _ => return Err(unknown_option(&other, attr, &name)),
                };
                return Err(syn::Error::new_spanned(
                    other,
                    format!("#[eddy::{attr}] option `{name}` needs a value: write {hint}"),
                ));
            }
        };
        if seen.contains(&name) {
            return Err(syn::Error::new_spanned(
                &pair.path,
                format!("#[eddy::{attr}] option `{name}` is given twice: keep one"),
            ));
        }
        seen.push(name.clone());
        match name.as_str() {
            "debug" => opts.debug = Some(lit_bool(&pair.value, "debug")?),
            "start_paused" => opts.start_paused = Some(lit_bool(&pair.value, "start_paused")?),
            "slow_poll_ms" => opts.slow_poll_ms = Some(lit_u64(&pair.value, "slow_poll_ms")?),
            "crate" => {
                // Parsed with the string's span, so that an error in the
                // expansion's paths (a crate that is not there) points at
                // the string, not at the whole attribute.
                let s = lit_str(&pair.value, "crate")?;
                opts.krate = s.parse().map_err(|_| {
                    syn::Error::new(
                        s.span(),
                        "crate = \"...\" must be a path, e.g. crate = \"my_eddy\"",
                    )
                })?;
            }
            _ => return Err(unknown_option(&pair.path, attr, &name)),
        }
    }
    Ok(opts)
}

/// The error for an option eddy does not have, on `tokens`.
fn unknown_option(tokens: &impl quote::ToTokens, attr: &str, name: &str) -> syn::Error {
    syn::Error::new_spanned(
        tokens,
        format!(
            "unknown #[eddy::{attr}] option `{name}`: use debug, start_paused, slow_poll_ms or \
             crate"
        ),
    )
}

fn lit(value: &Expr) -> Option<&Lit> {
    match value {
        Expr::Lit(ExprLit { lit, .. }) => Some(lit),
        _ => None,
    }
}

fn lit_bool(value: &Expr, name: &str) -> syn::Result<bool> {
    match lit(value) {
        Some(Lit::Bool(b)) => Ok(b.value),
        _ => Err(syn::Error::new(
            value.span(),
            format!("`{name}` takes true or false, e.g. {name} = true"),
        )),
    }
}

fn lit_u64(value: &Expr, name: &str) -> syn::Result<u64> {
    match lit(value) {
        Some(Lit::Int(i)) => i.base10_parse(),
        _ => Err(syn::Error::new(
            value.span(),
            format!("`{name}` takes a whole number of milliseconds, e.g. {name} = 50"),
        )),
    }
}

fn lit_str(value: &Expr, name: &str) -> syn::Result<syn::LitStr> {
    match lit(value) {
        Some(Lit::Str(s)) => Ok(s.clone()),
        _ => Err(syn::Error::new(
            value.span(),
            format!("`{name}` takes a string, e.g. {name} = \"eddy\""),
        )),
    }
}

/// The runtime-building expression for `opts`.
fn builder(opts: &Options) -> TokenStream2 {
    let krate = &opts.krate;
    let mut b = quote! { #krate::Builder::new() };
    if let Some(on) = opts.debug {
        b = quote! { #b.debug(#on) };
    }
    if let Some(ms) = opts.slow_poll_ms {
        b = quote! { #b.slow_poll_threshold(::core::time::Duration::from_millis(#ms)) };
    }
    if let Some(on) = opts.start_paused {
        b = quote! { #b.start_paused(#on) };
    }
    b
}

/// Rewrites `async fn` into a plain fn running its body on a new runtime.
fn expand(attr: &str, args: TokenStream2, item: TokenStream2) -> syn::Result<TokenStream2> {
    let mut func: ItemFn = match syn::parse2(item.clone()) {
        Ok(func) => func,
        Err(e) => {
            return match syn::parse2::<syn::Item>(item.clone()) {
                // Valid Rust, but not a function.
                Ok(_) => Err(syn::Error::new(
                    e.span(),
                    format!("#[eddy::{attr}] goes on an `async fn`"),
                )),
                // Not valid Rust: a syntax error in the body, which rustc
                // reports too. Say that, not where the attribute goes, and
                // hand the item back (minus `async`, which `main` may not
                // be) so no further error piles on. Returning the item
                // alone could drop a test without a word if syn ever
                // rejects what rustc accepts.
                Err(syntax) => {
                    let err = syn::Error::new(
                        syntax.span(),
                        format!(
                            "#[eddy::{attr}] cannot read this function: {syntax} (fix the \
                             syntax error first)"
                        ),
                    )
                    .to_compile_error();
                    let item = without_async(item);
                    Ok(quote! { #err #item })
                }
            };
        }
    };
    let opts = parse_options(args, attr)?;
    if func.sig.asyncness.is_none() {
        return Err(syn::Error::new(
            func.sig.fn_token.span(),
            format!(
                "#[eddy::{attr}] needs an `async fn`: write `async fn {}(..)`",
                func.sig.ident
            ),
        ));
    }
    if !func.sig.inputs.is_empty() {
        let what = if attr == "main" { "main" } else { "a test" };
        return Err(syn::Error::new(
            func.sig.inputs.span(),
            format!(
                "{what} run by #[eddy::{attr}] cannot take arguments: remove them and \
                 build what you need inside the body"
            ),
        ));
    }
    if attr == "main" && func.sig.ident != "main" {
        return Err(syn::Error::new(
            func.sig.ident.span(),
            "#[eddy::main] goes on `async fn main()`; for other functions call eddy::run(..) yourself",
        ));
    }
    if !func.sig.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(
            &func.sig.generics,
            format!(
                "#[eddy::{attr}] functions cannot be generic (nothing could choose the \
                 parameters): remove them and name the types inside the body"
            ),
        ));
    }
    if attr == "test" {
        if let Some(test) = func.attrs.iter().find(|a| is_test_attr(a)) {
            return Err(syn::Error::new_spanned(
                test,
                "#[eddy::test] already makes this a test: remove this #[test] (with both, the \
                 test is registered and run twice)",
            ));
        }
    }
    func.sig.asyncness = None;
    let build = builder(&opts);
    let output = &func.sig.output;
    let body = &func.block;
    // The body becomes an inner `async fn` with the declared return type,
    // not an `async` block: a block's output type is inferred from its
    // body alone, so an early `return Err(Box::new(e))` or a `?` would be
    // checked without the `-> Result<_, Box<dyn Error>>` the user wrote
    // and fail to coerce. An `async fn` is checked against its signature,
    // as the function the user wrote was. It also keeps the body from
    // seeing the runtime variable below.
    let new_body = quote! {
        {
            async fn __eddy_body() #output #body
            let __eddy_rt = #build
                .build()
                .expect("eddy: the runtime could not start");
            // The runtime drops (cancelling leftover tasks) after the
            // body's value is computed, as asyncio.run does.
            __eddy_rt.block_on(__eddy_body())
        }
    };
    func.block = syn::parse2(new_body)?;
    let test_attr = if attr == "test" {
        quote! { #[::core::prelude::v1::test] }
    } else {
        TokenStream2::new()
    };
    Ok(quote! { #test_attr #func })
}

/// Whether `attr` is the built-in `#[test]` (`test`, or a path to it
/// through `core`/`std`, such as `::core::prelude::v1::test`).
fn is_test_attr(attr: &syn::Attribute) -> bool {
    let segments = &attr.path().segments;
    let first = segments.first().map(|s| s.ident.to_string());
    segments.last().is_some_and(|s| s.ident == "test")
        && (segments.len() == 1 || matches!(first.as_deref(), Some("core" | "std")))
}

/// `item`'s tokens with the `async` before its `fn` taken out.
fn without_async(item: TokenStream2) -> TokenStream2 {
    let mut before_fn = true;
    item.into_iter()
        .filter(|tt| {
            if let proc_macro2::TokenTree::Ident(ident) = tt {
                if ident == "fn" {
                    before_fn = false;
                } else if before_fn && ident == "async" {
                    return false;
                }
            }
            true
        })
        .collect()
}

fn run(attr: &str, args: TokenStream, item: TokenStream) -> TokenStream {
    let item = TokenStream2::from(item);
    match expand(attr, args.into(), item.clone()) {
        Ok(ts) => ts.into(),
        Err(e) => {
            let err = e.to_compile_error();
            if attr != "main" {
                return err.into();
            }
            match syn::parse2::<ItemFn>(item.clone()) {
                // #[eddy::main] on another function (`async fn serve()`),
                // most likely next to the real `main`: the function stays
                // as written, so neither a second `main` nor the callers
                // of `serve` pile errors on the message.
                Ok(func) if func.sig.ident != "main" => quote! { #err #item },
                // The error is the message; an empty `main` in place of
                // the one taken keeps rustc from piling a second,
                // misleading "no main function" error on it. It is never
                // part of a build that succeeds.
                _ => quote! { #err fn main() {} },
            }
            .into()
        }
    }
}

/// Runs `async fn main()` on a new eddy runtime and shuts it down after
/// (asyncio's `asyncio.run(main())`).
///
/// Options: `debug = true`, `start_paused = true`, `slow_poll_ms = N`
/// (the slow-poll threshold of debug mode, which `debug = true` or
/// `EDDY_DEBUG=1` turns on), and `crate = "path"` when the dependency is
/// not named `eddy` (with `eddy2 = { package = "eddy", .. }` in
/// Cargo.toml, write `#[eddy2::main(crate = "eddy2")]`).
///
/// # Example
///
/// ```ignore
/// #[eddy::main]
/// async fn main() {
///     println!("{}", eddy::spawn(async { "hi" }).await.unwrap());
/// }
/// ```
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    run("main", args, item)
}

/// Runs an `async fn` test on a new eddy runtime (one runtime per test).
///
/// Options as for [`macro@main`]; `start_paused = true` makes timers
/// complete as soon as the loop is idle, so tests of long timeouts run in
/// microseconds.
///
/// # Example
///
/// ```ignore
/// #[eddy::test]
/// async fn spawns() {
///     assert_eq!(eddy::spawn(async { 3 }).await.unwrap(), 3);
/// }
/// ```
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    run("test", args, item)
}
