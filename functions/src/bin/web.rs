//! Entry point of the web function. On Lambda it serves the site's pages; locally it also serves the
//! subscribe API on the same address, standing in for CloudFront, which sends `/api/*` there.

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
    let web = functions::web::WebState::from_env().await?;
    if functions::on_lambda() {
        return functions::serve(functions::web::router(web), 0).await;
    }
    let subscribe = functions::subscribe::SubscribeState::from_env().await?;
    functions::serve(functions::site(web, subscribe), functions::port_from_env()?).await
}
