//! Fuzz target: hq serve's multipart form parsing (`crates/server/src/form.rs`: multer with the whole
//! stream bounded, text fields, at most one shapefile part), what every harmony-py submission goes
//! through. It must answer with a form or an error, never panic, never wait on an in-memory body, never
//! hand back more bytes than it was given, and refuse a body over its limit.
//!
//! Input: the first byte picks how the body arrives (chunk sizes from 1 byte to all at once, so part
//! boundaries fall across chunks) and, with its top bit, a 256-byte limit instead of 64 MiB; the rest is
//! the body, whose boundary is `hq`.
//!
//! Like `params`, the target compiles the server's file itself rather than depending on
//! harmonyql-server, whose dependencies would more than double the instrumented build.
#![no_main]

#[allow(dead_code, unreachable_pub)]
#[path = "../../crates/server/src/form.rs"]
mod form;

use std::future::Future as _;
use std::task::{Context, Poll, Waker};

use libfuzzer_sys::fuzz_target;

const CHUNK_SIZES: [usize; 8] = [1, 2, 7, 64, 509, 4096, 65_536, usize::MAX];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else { return };
    let chunk = CHUNK_SIZES[usize::from(selector & 7)];
    let limit: u64 = if selector & 0x80 != 0 { 256 } else { 64 << 20 };
    let chunks: Vec<Result<bytes::Bytes, std::io::Error>> =
        body.chunks(chunk.min(body.len().max(1))).map(|c| Ok(bytes::Bytes::copy_from_slice(c))).collect();
    let mut reading = std::pin::pin!(form::read(futures_util::stream::iter(chunks), "hq".to_owned(), limit));
    let mut context = Context::from_waker(Waker::noop());
    let Poll::Ready(result) = reading.as_mut().poll(&mut context) else {
        panic!("reading a body that is all in memory must not wait");
    };
    if let Ok(form) = result {
        let given: usize = form.fields.iter().map(|(name, value)| name.len() + value.len()).sum::<usize>()
            + form.shapefile.as_ref().map_or(0, |(bytes, _)| bytes.len());
        assert!(given <= body.len(), "{given} bytes of fields from a {}-byte body", body.len());
        assert!(
            body.len() as u64 <= limit || given as u64 <= limit,
            "a {}-byte body passed a {limit}-byte limit",
            body.len()
        );
    }
});
