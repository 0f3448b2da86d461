//! Targets other than wasm32-wasip1/wasip2: every request fails (this lets the crate be
//! checked and documented on the host).

use crate::{Error, Request, Response};

fn unsupported() -> Error {
    Error::other("wasmgate-guest works only on wasm32-wasip1 and wasm32-wasip2")
}

pub(crate) fn start(_req: Request) -> Result<Pending, Error> {
    Err(unsupported())
}

pub(crate) struct Pending;

impl Pending {
    pub(crate) fn wait(self) -> Result<Response, Error> {
        Err(unsupported())
    }
}

pub(crate) fn wait_all(pending: Vec<Pending>) -> Vec<Result<Response, Error>> {
    pending.into_iter().map(Pending::wait).collect()
}

pub(crate) struct BodyReader;

impl BodyReader {
    pub(crate) fn read(&mut self, _buf: &mut [u8]) -> Result<usize, Error> {
        Err(unsupported())
    }
}
