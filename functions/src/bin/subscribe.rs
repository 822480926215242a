//! Entry point of the subscribe function: the subscribe API, on Lambda or on 127.0.0.1.

fn main() -> std::process::ExitCode {
    functions::main_with(run)
}

async fn run() -> anyhow::Result<()> {
    let app = functions::subscribe::router(functions::subscribe::SubscribeState::from_env().await?);
    functions::serve(app, functions::port_from_env()?).await
}
