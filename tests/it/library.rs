//! The library's blocking API (what a Rust notebook in evcxr uses) against a real `server::Server` on
//! 127.0.0.1: submit, wait, results, download, open, plot, each rendered as a rich bundle.

use harmonyql::eval::blocking::BlockingSession;
use harmonyql::server::{ServeConfig, Server};

/// Starts a server on its own runtime thread (the session under test owns another runtime).
fn start_server(dir: &std::path::Path) -> String {
    let (sender, receiver) = std::sync::mpsc::channel();
    let data_dir = dir.to_path_buf();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async move {
            let config = ServeConfig { port: 0, data_dir, ..ServeConfig::default() };
            let server = Server::bind(config).await.unwrap();
            sender.send(format!("http://{}", server.addr())).unwrap();
            let _ = server.run(std::future::pending()).await;
        });
    });
    receiver.recv_timeout(std::time::Duration::from_secs(30)).expect("the server starts")
}

#[test]
fn the_notebook_statements_run_and_render_through_the_blocking_session() {
    let dir = tempfile::tempdir().unwrap();
    let url = start_server(&dir.path().join("data"));
    let mut hq = BlockingSession::connect(&url).unwrap();
    let submitted = hq.run("job = subset ATL03 bbox(-105.5, 40, -105, 41) time(2020-04-27 .. 2020-05-28)");
    assert!(submitted.ok, "{:?}", submitted.reports);
    let job_id = submitted.job_id().unwrap().to_owned();
    assert!(submitted.to_bundle().get("text/html").is_some());
    let waited = hq.run("wait job");
    assert!(waited.ok, "{:?}", waited.reports);
    assert!(waited.to_bundle().text_plain().contains(&format!("job {job_id}: successful")), "{:?}", waited.reports);
    let results = hq.run("results job");
    assert_eq!(results.links().len(), 1, "{:?}", results.reports);
    let out = dir.path().join("files");
    let downloaded = hq.run(&format!("files = download job to \"{}\"", out.display()));
    assert_eq!(downloaded.files().len(), 1, "{:?}", downloaded.reports);
    assert!(downloaded.files()[0].starts_with(&out));
    let opened = hq.run("open files");
    assert!(opened.ok && opened.to_bundle().text_plain().contains("gt1l"), "{:?}", opened.reports);
    let plotted = hq.run("plot photons files");
    assert!(plotted.ok, "{:?}", plotted.reports);
    let figure = plotted.figures()[0].to_bundle();
    assert!(figure.get("image/png").is_some() && figure.get("image/svg+xml").is_some());
    let evcxr = plotted.to_bundle().to_evcxr();
    assert!(evcxr.contains("EVCXR_BEGIN_CONTENT text/plain\n") && evcxr.contains("<svg"), "{}", &evcxr[..200]);
}
