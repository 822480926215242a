//! Entry point of the subscribe function: the subscribe API, on Lambda or on 127.0.0.1.

fn main() -> std::process::ExitCode {
    functions::init_tracing();
    let runtime = tokio::runtime::Runtime::new().expect("a Tokio runtime starts on any supported OS");
    match runtime.block_on(run()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    let app = functions::subscribe::router(functions::subscribe::SubscribeState::from_env().await?);
    functions::serve(app, functions::port_from_env()?).await
}
