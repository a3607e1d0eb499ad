//! The library's blocking API (what a Rust notebook in evcxr uses) against a real `server::Server` on
//! 127.0.0.1: submit, wait, results, download, open, plot, each rendered as a rich bundle; and the
//! session's completion and inspection data fetched from the server's catalog.

use harmonyql::eval::blocking::BlockingSession;
use harmonyql_server::{ServeConfig, Server};

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

#[tokio::test]
async fn completion_and_inspection_come_from_the_servers_catalog() {
    use harmonyql::api::environment::Environment;
    use harmonyql::eval::session::{Config, Session};
    use harmonyql::lang::assist::complete;

    let dir = tempfile::tempdir().unwrap();
    let config = ServeConfig { port: 0, data_dir: dir.path().to_path_buf(), ..ServeConfig::default() };
    let server = Server::bind(config).await.unwrap();
    let base = format!("http://{}", server.addr());
    tokio::spawn(async move {
        let _ = server.run(std::future::pending()).await;
    });
    let mut session = Session::new(Config { env: Environment::Url(base), ..Config::default() });

    let cell = "subset ATL";
    session.prepare_assist(cell, cell.len()).await;
    let (span, items) = complete(cell, cell.len(), &session.known());
    let texts: Vec<&str> = items.iter().map(|c| c.text.as_str()).collect();
    assert_eq!((span.start, span.end), (7, 10));
    assert_eq!(texts, ["ATL03", "ATL03_GT1L"], "the server's listing replaces the well-known names");

    let cell = "subset C1256";
    let (_, items) = complete(cell, cell.len(), &session.known());
    assert_eq!(items.iter().map(|c| c.text.as_str()).collect::<Vec<_>>(), ["C1256407609-NSIDC_CUAT"]);

    let cell = "subset SPL3SMP vars(Soil_Moisture_Retrieval_Data_AM/soil_moisture";
    session.prepare_assist(cell, cell.len()).await;
    let (span, items) = complete(cell, cell.len(), &session.known());
    assert_eq!(span.start, cell.find("Soil").unwrap());
    assert!(!items.is_empty() && items.iter().all(|c| c.kind == "variable"), "{items:?}");
    assert!(items.iter().all(|c| c.text.starts_with("Soil_Moisture_Retrieval_Data_AM/soil_moisture")), "{items:?}");

    let cell = "capabilities ATL03";
    session.prepare_assist(cell, 15).await;
    let help = session.collection_help(cell, 15).expect("ATL03's capabilities are cached");
    assert!(help.contains("sds/trajectory-subsetter") && help.contains("/gt1l/"), "{help}");
    assert!(session.collection_help(cell, 3).is_none(), "the verb is not a collection");
}
