//! `wasi-http null`: the component guest under plain Wasmtime 48 (`wasmtime-wasi` and
//! `wasmtime-wasi-http`, no wasmgate code at all) whose `send_request` hook answers every
//! request at once from memory with a 1 KiB body: no network, no policy, no server.
//!
//! Its time per request is what Wasmtime's component call path and wasi-http's resources
//! cost a guest's request loop by themselves (about 25 host calls per request: fields,
//! request, handle, pollables, body stream, trailers), on the same kind of runtime
//! `wasmgate run` uses (current-thread Tokio, the guest in a task). P1 prints it as a row
//! so that the component's overhead over the floor can be split into this part, which no
//! host built on Wasmtime avoids, and the rest.
//!
//! It runs in a process of its own: this binary re-executed with [`AS_NULL_HTTP_ENV`].

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use std::process::ExitCode;
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Config, Engine, Store};
use wasmtime_wasi::p2::bindings::Command;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{
    Error as HttpError, RequestOptions, WasiBody, WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks,
    WasiHttpView,
};

/// Set in the environment of the bench binary when it is to run `GUEST ARGS…` this way.
pub const AS_NULL_HTTP_ENV: &str = "WASMGATE_BENCH_AS_NULL_HTTP";

/// The body every request gets: the size P1 asks the real server for.
const BODY: usize = 1024;

struct State {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    hooks: NullHooks,
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for State {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.hooks,
        }
    }
}

/// Answers 200 with [`BODY`] bytes, without looking at the request.
struct NullHooks {
    body: Bytes,
}

type Sent = Result<
    (
        http::Response<WasiBody>,
        Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    ),
    HttpError,
>;

impl WasiHttpHooks for NullHooks {
    fn send_request(
        &mut self,
        _request: http::Request<WasiBody>,
        _options: Option<RequestOptions>,
        io: Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    ) -> Box<dyn Future<Output = Sent> + Send> {
        let body = Full::new(self.body.clone())
            .map_err(|never| match never {})
            .boxed_unsync();
        Box::new(async move { Ok((http::Response::new(body), io)) })
    }
}

/// The child process: `GUEST.wasm ARGS…` (see [`AS_NULL_HTTP_ENV`]).
pub fn child_main(args: &[String]) -> ExitCode {
    let Some((wasm, guest_args)) = args.split_first() else {
        eprintln!("usage: GUEST.wasm ARGS…");
        return ExitCode::FAILURE;
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let (wasm, guest_args) = (wasm.clone(), guest_args.to_vec());
    let ran = runtime.block_on(async move {
        // A task, as `wasmgate run` runs its guest (see crates/cli/src/commands/run.rs).
        tokio::spawn(run(wasm, guest_args)).await
    });
    match ran {
        Ok(Ok(true)) => ExitCode::SUCCESS,
        Ok(Ok(false)) => ExitCode::FAILURE,
        Ok(Err(e)) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("error: the guest task failed: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(wasm: String, args: Vec<String>) -> wasmtime::Result<bool> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    let engine = Engine::new(&config)?;
    let component = Component::from_file(&engine, &wasm)?;
    let mut linker = Linker::<State>::new(&engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
    let mut argv = vec!["guest.wasm".to_string()];
    argv.extend(args);
    let wasi = WasiCtx::builder().inherit_stdio().args(&argv).build();
    let state = State {
        wasi,
        http: WasiHttpCtx::new(),
        table: ResourceTable::new(),
        hooks: NullHooks {
            body: Bytes::from(vec![b'x'; BODY]),
        },
    };
    let mut store = Store::new(&engine, state);
    let command = Command::instantiate_async(&mut store, &component, &linker).await?;
    match command.wasi_cli_run().call_run(&mut store).await {
        Ok(result) => Ok(result.is_ok()),
        // The guest ends by calling `exit` (http-client does), which comes back as this.
        Err(e) => match e.downcast_ref::<wasmtime_wasi::I32Exit>() {
            Some(exit) => Ok(exit.0 == 0),
            None => Err(e),
        },
    }
}
