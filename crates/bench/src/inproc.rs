//! Clients driven from Rust inside the bench process (the floor and native) and the timed
//! loops they share, so both subjects run exactly the same code around their requests.
//!
//! Each client gets its own **current-thread** Tokio runtime: `wasmgate run` is moving to
//! one, and a single-threaded client is what the floor is meant to be (no cross-thread
//! wake-ups in the measured path). Connection tasks spawned by a client's pool run only
//! while one of its loops is in `block_on`; between loops they just sit idle, which keeps
//! the kept-alive connection usable for the next run.

use std::future::Future;
use std::time::{Duration, Instant};

/// What a timed loop did.
pub struct Timed {
    /// The loop's wall time.
    pub elapsed: Duration,
    /// Body bytes read.
    pub bytes: u64,
}

/// A client that can GET a URL and read the whole body.
pub trait Get: Clone + Send + Sync + 'static {
    /// One GET of `url`; the body is read to its end (frames counted, then dropped) and
    /// its length returned. A non-2xx status is an error.
    fn get(&self, url: &str) -> impl Future<Output = Result<u64, String>> + Send;
}

/// A client with its own current-thread runtime.
pub struct InProcess<C> {
    runtime: tokio::runtime::Runtime,
    client: C,
}

impl<C: Get> InProcess<C> {
    /// Wraps `client` with a fresh current-thread runtime.
    pub fn new(client: C) -> Result<InProcess<C>, String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("tokio runtime: {e}"))?;
        Ok(InProcess { runtime, client })
    }

    /// `n` sequential GETs of `url`, each body read to its end.
    pub fn sequential(&self, url: &str, n: u64) -> Result<Timed, String> {
        self.runtime.block_on(async {
            let started = Instant::now();
            let mut bytes = 0;
            for _ in 0..n {
                bytes += self.client.get(url).await?;
            }
            Ok(Timed {
                elapsed: started.elapsed(),
                bytes,
            })
        })
    }

    /// `n` GETs of `url` at once (one task each, interleaved on the one thread); done
    /// when every body is read.
    pub fn concurrent(&self, url: &str, n: u64) -> Result<Timed, String> {
        self.runtime.block_on(async {
            let started = Instant::now();
            let tasks: Vec<_> = (0..n)
                .map(|_| {
                    let client = self.client.clone();
                    let url = url.to_string();
                    tokio::spawn(async move { client.get(&url).await })
                })
                .collect();
            let mut bytes = 0;
            for t in tasks {
                bytes += t.await.map_err(|e| e.to_string())??;
            }
            Ok(Timed {
                elapsed: started.elapsed(),
                bytes,
            })
        })
    }
}

/// Reads `body` to its end, counting data bytes (trailers and other frames are skipped).
pub async fn drain<B>(body: B) -> Result<u64, String>
where
    B: http_body::Body,
    B::Error: std::fmt::Display,
{
    use http_body_util::BodyExt;
    let mut body = std::pin::pin!(body);
    let mut n = 0u64;
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.map_err(|e| e.to_string())?.into_data() {
            n += bytes::Buf::remaining(&data) as u64;
        }
    }
    Ok(n)
}
