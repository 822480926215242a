//! Entry point of the web function. On Lambda it serves the site's pages; locally it also serves the
//! subscribe API on the same address, standing in for CloudFront, which sends `/api/*` there.

fn main() -> std::process::ExitCode {
    functions::main_with(run)
}

async fn run() -> anyhow::Result<()> {
    let web = functions::web::WebState::from_env().await?;
    if functions::on_lambda() {
        return functions::serve(functions::web::router(web), 0).await;
    }
    serve_site(web).await
}

/// The whole site, subscribe API included, on 127.0.0.1.
#[cfg(feature = "local-server")]
async fn serve_site(web: functions::web::WebState) -> anyhow::Result<()> {
    let subscribe = functions::subscribe::SubscribeState::from_env().await?;
    functions::serve(functions::site(web, subscribe), functions::port_from_env()?).await
}

/// The Lambda build links no subscribe API: `serve` says why it cannot run here.
#[cfg(not(feature = "local-server"))]
async fn serve_site(web: functions::web::WebState) -> anyhow::Result<()> {
    functions::serve(functions::web::router(web), 0).await
}
