//! CMR search end to end: `hq serve`'s CMR answers over HTTP, the client's paging, and `collections` /
//! `granules` run by a session against it.

use harmonyql::api::cmr::{Concept, Search, SpatialFilter};
use harmonyql::api::environment::Environment;
use harmonyql::eval::session::{Config, Session};
use harmonyql::eval::sink::Report;
use harmonyql::harmony::auth::Credentials;
use harmonyql::harmony::client::Client;
use harmonyql::harmony::cmr::{CmrError, search_all};
use harmonyql_server::{AuthMode, ServeConfig, Server};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

async fn start_server(auth: AuthMode) -> (String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let users = dir.path().join("users.txt");
    std::fs::write(&users, "alice:wonderland\n").unwrap();
    let config =
        ServeConfig { port: 0, data_dir: dir.path().to_path_buf(), auth, users: Some(users), ..ServeConfig::default() };
    let server = Server::bind(config).await.unwrap();
    let base = format!("http://{}", server.addr());
    // The server stops with the test's runtime.
    tokio::spawn(async move {
        let _ = server.run(std::future::pending()).await;
    });
    (base, dir)
}

const COLORADO: &str = "bounding_box=-105.5,40,-105,41";

#[tokio::test]
async fn hq_serve_answers_cmr_with_hits_search_after_and_cmr_errors() {
    // With Earthdata Login emulated, CMR search still needs no login, as NASA's.
    let (base, _dir) = start_server(AuthMode::Edl).await;
    let http = reqwest::Client::new();
    let get = |path: String, after: Option<String>| {
        let mut request = http.get(format!("{base}{path}"));
        if let Some(token) = after {
            request = request.header("CMR-Search-After", token);
        }
        request.send()
    };
    let first = get(format!("/search/granules.json?short_name=ATL03&page_size=1&{COLORADO}"), None).await.unwrap();
    assert_eq!(first.status(), 200);
    assert_eq!(first.headers()["CMR-Hits"], "2");
    let token = first.headers()["CMR-Search-After"].to_str().unwrap().to_owned();
    let body: Value = first.json().await.unwrap();
    assert_eq!(body["feed"]["entry"][0]["title"], "ATL03_20200427193622_04930702_006_02.h5");
    let entry: harmonyql::api::cmr::GranuleEntry = serde_json::from_value(body["feed"]["entry"][0].clone()).unwrap();
    // The ground track, as CMR writes lines (latitude first), read back as [lon, lat].
    let track = &entry.footprints()[0];
    assert!(
        track.len() > 2 && track.iter().all(|[lon, lat]| (-105.4..-105.0).contains(lon) && (39.8..41.2).contains(lat))
    );
    let second =
        get(format!("/search/granules.json?short_name=ATL03&page_size=1&{COLORADO}"), Some(token)).await.unwrap();
    assert!(second.headers().get("CMR-Search-After").is_none(), "the last page has no token");
    let body: Value = second.json().await.unwrap();
    assert_eq!(body["feed"]["entry"][0]["title"], "ATL03_20200612190211_12190702_006_01.h5");

    let umm: Value = get("/search/granules.umm_json?short_name=SPL3SMP&page_size=2".into(), None)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(umm["items"].as_array().unwrap().len(), 2);
    assert_eq!(umm["items"][0]["meta"]["concept-type"], "granule");
    assert!(umm["hits"].as_u64().unwrap() >= 2);
    let collections: Value =
        get("/search/collections.json?keyword=atl03".into(), None).await.unwrap().json().await.unwrap();
    let names: Vec<&str> =
        collections["feed"]["entry"].as_array().unwrap().iter().map(|e| e["short_name"].as_str().unwrap()).collect();
    assert_eq!(names, ["ATL03", "ATL03_GT1L"]);
    // The sample collections keep NASA's providers and concept IDs.
    let nsidc: Value = get("/search/collections.json?keyword=atl03&provider=NSIDC_CPRD".into(), None)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(nsidc["feed"]["entry"][0]["id"], "C2596864127-NSIDC_CPRD");
    assert_eq!(nsidc["feed"]["entry"].as_array().unwrap().len(), 1);

    for (path, message) in [
        ("/search/granules.json?short_name=ATL03&page_nmu=2", "Parameter [page_nmu] was not recognized."),
        ("/search/granules.json?temporal=2020-01-01T00:00:00Z,", "across granules in all collections"),
        ("/search/collections.json?bounding_box=40,-105.5,41,-105", "not a valid bounding_box"),
        ("/search/granules.json?short_name=ATL03&sort_key=size", "The sort key [size] is not a valid field"),
    ] {
        let response = get(path.into(), None).await.unwrap();
        assert_eq!(response.status(), 400, "{path}");
        let body: Value = response.json().await.unwrap();
        assert!(body["errors"][0].as_str().unwrap().contains(message), "{path}: {body}");
    }
    let response = get("/search/granules.json?short_name=ATL03".into(), Some("[\"nope\"]".into())).await.unwrap();
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn the_client_pages_with_search_after_and_stops_at_the_limit() {
    let (base, _dir) = start_server(AuthMode::None).await;
    let client = Client::new(Environment::Url(base.clone()), Credentials::Anonymous).unwrap();
    let cancel = CancellationToken::new();
    let search = Search { short_name: Some("ATL03".into()), ..Search::default() };
    // Pages of 2000 are asked for; a limit of 4 reads one page of 4.
    let (hits, granules) =
        search_all::<harmonyql::api::cmr::GranuleEntry>(&client, &base, &search, Concept::Granules, 4, &cancel)
            .await
            .unwrap();
    assert_eq!((hits, granules.len()), (6, 4));
    let everything =
        search_all::<harmonyql::api::cmr::GranuleEntry>(&client, &base, &search, Concept::Granules, 100, &cancel)
            .await
            .unwrap();
    assert_eq!(everything.1.len(), 6);
    let bad = Search { spatial: vec![SpatialFilter::Polygon(vec![[0.0, 0.0], [1.0, 0.0]])], ..search.clone() };
    match search_all::<harmonyql::api::cmr::GranuleEntry>(&client, &base, &bad, Concept::Granules, 10, &cancel).await {
        Err(CmrError::Cmr { status: 400, errors, .. }) => assert!(errors[0].contains("polygon"), "{errors:?}"),
        other => panic!("expected CMR's 400, got {other:?}"),
    }
}

#[tokio::test]
async fn collections_and_granules_run_in_a_session_against_hq_serve() {
    let (base, _dir) = start_server(AuthMode::None).await;
    let config = Config { env: Environment::Url(base.clone()), ..Config::default() };
    let mut session = Session::new(config);
    let mut reports: Vec<Report> = Vec::new();
    let cancel = CancellationToken::new();
    let outcome = session
        .run_async(
            "found = granules ATL03 bbox(-105.5, 40, -105, 41) time(2020-04-27 .. 2020-05-28)\n\
             collections \"atl*\" limit 1",
            &mut reports,
            &cancel,
        )
        .await;
    assert!(outcome.ok, "{reports:?}");
    let Some(Report::Granules(granules)) = reports.first() else { panic!("{reports:?}") };
    assert_eq!(granules.hits, 1);
    assert_eq!(granules.granules[0].title, "ATL03_20200427193622_04930702_006_02.h5");
    assert!(granules.url.starts_with(&format!("{base}/search/granules.json?short_name=ATL03&bounding_box=")));
    let text = harmonyql::output::report::plain(&reports[0]);
    assert!(text.starts_with("ATL03: 1 granule(s), size not given by CMR\nname"), "{text}");
    let Some(Report::Collections(collections)) = reports.get(1) else { panic!("{reports:?}") };
    assert_eq!((collections.hits, collections.collections.len()), (2, 1));
    assert_eq!(collections.collections[0].short_name, "ATL03");
    assert!(session.value("found").is_some());
    let bundle = reports[1].to_bundle().unwrap();
    assert!(bundle.get("text/html").unwrap().as_str().unwrap().contains("<td><b>ATL03</b></td>"));

    // The bound result's footprints on the map, with the searched box.
    let mut plotted: Vec<Report> = Vec::new();
    assert!(session.run_async("plot granules found\nfound", &mut plotted, &cancel).await.ok, "{plotted:?}");
    let Some(Report::Figure { name, figure }) = plotted.first() else { panic!("{plotted:?}") };
    assert_eq!(name, "ATL03_granules");
    assert!(figure.svg.contains("ATL03_20200427193622_04930702_006_02.h5"), "the legend names the granule");
    assert!(figure.svg.contains("ATL03: 1 of 1 granule(s)"));
    assert!(figure.png.starts_with(b"\x89PNG"));
    assert!(matches!(plotted.get(1), Some(Report::Granules(results)) if results.areas.len() == 1));

    // `subset found` orders exactly those granules: the collection and their concept IDs.
    let mut shown: Vec<Report> = Vec::new();
    assert!(session.run_async("url subset found vars(/gt1l/heights/h_ph)", &mut shown, &cancel).await.ok, "{shown:?}");
    let Some(Report::Url(url)) = shown.first() else { panic!("{shown:?}") };
    assert_eq!(
        url,
        &format!(
            "{base}/C2596864127-NSIDC_CPRD/ogc-api-coverages/1.0.0/collections/parameter_vars/coverage/rangeset?forceAsync=true&label=harmonyql&granuleId=G1100000001-HQ_LOCAL&variable=%2Fgt1l%2Fheights%2Fh_ph"
        )
    );
    let mut submitted: Vec<Report> = Vec::new();
    assert!(session.run_async("job = subset found", &mut submitted, &cancel).await.ok, "{submitted:?}");
    // The checking step says what it orders, from the bound result, before the job.
    let [Report::Text(estimate), Report::Job(job)] = submitted.as_slice() else { panic!("{submitted:?}") };
    assert_eq!(estimate, "subset C2596864127-NSIDC_CPRD selects 1 granule(s), size not given by CMR");
    assert!(job.request.contains("granuleId=G1100000001-HQ_LOCAL"), "{}", job.request);
    assert_eq!(job.num_input_granules, 1);

    // Once the collection's capabilities are known, what it cannot do is caught before sending.
    let mut caps: Vec<Report> = Vec::new();
    assert!(session.run_async("capabilities ATL03", &mut caps, &cancel).await.ok, "{caps:?}");
    let mut checked: Vec<Report> = Vec::new();
    let outcome =
        session.run_async("subset ATL03 vars(/gt1l/heights/h_phh) crs EPSG:3413", &mut checked, &cancel).await;
    assert!(!outcome.ok);
    let Some(Report::Diagnostics { diagnostics, .. }) = checked.first() else { panic!("{checked:?}") };
    let codes: Vec<&str> = diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(codes, ["unknown-variable", "not-supported"], "{diagnostics:?}");
    assert_eq!(diagnostics[0].label.as_deref(), Some("did you mean `/gt1l/heights/h_ph`?"));
    // The same holds for ordering a bound search result: its collection's capabilities apply.
    let mut ordered: Vec<Report> = Vec::new();
    assert!(!session.run_async("subset found vars(/gt1l/heights/h_phh)", &mut ordered, &cancel).await.ok);
    let Some(Report::Diagnostics { diagnostics, .. }) = ordered.first() else { panic!("{ordered:?}") };
    assert_eq!(diagnostics[0].code, "unknown-variable", "{diagnostics:?}");
    assert_eq!(diagnostics[0].label.as_deref(), Some("did you mean `/gt1l/heights/h_ph`?"));

    // Only a `granules` result can be plotted so.
    let mut refused: Vec<Report> = Vec::new();
    session
        .run_async("collections_found = collections ATL03\nplot granules collections_found", &mut refused, &cancel)
        .await;
    let Some(Report::Diagnostics { diagnostics, .. }) = refused.first() else { panic!("{refused:?}") };
    assert_eq!(diagnostics[0].code, "not-granules");
}

#[tokio::test]
async fn hq_check_online_counts_granules_and_checks_capabilities() {
    let (base, dir) = start_server(AuthMode::None).await;
    let script = dir.path().join("order.hq");
    std::fs::write(
        &script,
        "subset ATL03 bbox(-105.5, 40, -105, 41) time(2020-04-27 .. 2020-05-28)\n\
         subset SPL3SMP limit 2\n\
         subset ATL03 vars(/gt1l/heights/h_phh)\n",
    )
    .unwrap();
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_hq"))
        .args(["check", "--online", "--env", &base])
        .arg(&script)
        .env("EDL_TOKEN", "")
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains("order.hq:1: subset ATL03 selects 1 granule(s)"), "{stderr}");
    assert!(stderr.contains("order.hq:2: subset SPL3SMP selects 3 granule(s) (limit: 2 processed)"), "{stderr}");
    assert!(stderr.contains("did you mean `/gt1l/heights/h_ph`?"), "{stderr}");
    assert!(stderr.contains("1 error"), "{stderr}");
    // Offline, the same script is fine: nothing is guessed without capabilities.
    let offline = std::process::Command::new(env!("CARGO_BIN_EXE_hq")).arg("check").arg(&script).output().unwrap();
    assert!(offline.status.success(), "{}", String::from_utf8_lossy(&offline.stderr));
}

/// A granule directory as a class brings it: the real ATL03 cut, a truncated copy and a file that is not HDF5.
fn own_granules_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let real = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/fixtures/real/atl03/ATL03_gt1l.h5"))
        .or_else(|_| std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/real/ATL03_gt1l.h5")))
        .unwrap();
    std::fs::write(dir.path().join("ATL03_gt1l.h5"), &real).unwrap();
    std::fs::write(dir.path().join("ATL03_truncated.h5"), &real[..real.len() / 2]).unwrap();
    std::fs::write(dir.path().join("notes.h5"), "these are notes, not HDF5\n").unwrap();
    dir
}

#[test]
fn hq_serve_granules_dir_finds_orders_and_subsets_the_users_own_file() {
    use harmonyql::eval::blocking::BlockingSession;

    let granules = own_granules_dir();
    let data = tempfile::tempdir().unwrap();
    let (sender, receiver) = std::sync::mpsc::channel();
    let config = ServeConfig {
        port: 0,
        data_dir: data.path().to_path_buf(),
        granules: Some(granules.path().to_path_buf()),
        ..ServeConfig::default()
    };
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async move {
            let server = Server::bind(config).await.unwrap();
            let skipped: Vec<String> = server.own_granules().unwrap().skipped.iter().map(ToString::to_string).collect();
            sender.send((format!("http://{}", server.addr()), skipped)).unwrap();
            let _ = server.run(std::future::pending()).await;
        });
    });
    let (url, skipped) = receiver.recv_timeout(std::time::Duration::from_secs(30)).expect("the server starts");
    assert_eq!(skipped.len(), 2, "{skipped:?}");
    assert!(skipped.iter().any(|s| s.contains("ATL03_truncated.h5: not a readable")), "{skipped:?}");
    assert!(skipped.iter().any(|s| s.contains("notes.h5: not a readable")), "{skipped:?}");

    let mut hq = BlockingSession::connect(&url).unwrap();
    let found = hq.run("found = granules ATL03 bbox(-180, 87, 180, 88) time(2018-10-14 .. 2018-10-15)");
    assert!(found.ok, "{:?}", found.reports);
    let Some(Report::Granules(results)) = found.reports.first() else { panic!("{:?}", found.reports) };
    assert_eq!(results.hits, 1, "only the user's file lies there and then");
    let granule = &results.granules[0];
    assert_eq!((granule.id.as_str(), granule.title.as_str()), ("G900000001-HQ_LOCAL", "ATL03_gt1l.h5"));
    // Its first and last photon, as NASA's Trajectory Subsetter recorded when it cut the file.
    assert_eq!(granule.time_start.as_deref(), Some("2018-10-14T00:26:50.795Z"));
    assert_eq!(granule.time_end.as_deref(), Some("2018-10-14T00:27:47.682Z"));
    let real_size = std::fs::metadata(granules.path().join("ATL03_gt1l.h5")).unwrap().len();
    assert_eq!(granule.size_bytes(), Some(real_size));
    let track = &granule.footprints()[0];
    assert!(
        track.len() > 2 && track.iter().all(|[lon, lat]| (95.0..179.1).contains(lon) && (87.29..87.3).contains(lat))
    );
    // Elsewhere in space, it is not found.
    let missed = hq.run("granules ATL03 bbox(-105.5, 40, -105, 41) time(2018-10-14 .. 2018-10-15)");
    assert!(matches!(missed.reports.first(), Some(Report::Granules(r)) if r.hits == 0), "{:?}", missed.reports);

    // Ordered exactly, cut by the trajectory subsetter to the eastern part of the track, and downloaded.
    let submitted = hq.run("job = subset found bbox(150, 87, 180, 88)");
    assert!(submitted.ok, "{:?}", submitted.reports);
    let waited = hq.run("wait job");
    assert!(waited.to_bundle().text_plain().contains("successful"), "{:?}", waited.reports);
    let out = data.path().join("out");
    let downloaded = hq.run(&format!("files = download job to \"{}\"", out.display()));
    let files = downloaded.files();
    assert_eq!(files.len(), 1, "{:?}", downloaded.reports);
    let file = hdf5::File::open(&files[0]).unwrap();
    let lon: Vec<f64> = file.dataset("gt1l/heights/lon_ph").unwrap().read_raw().unwrap();
    assert!(!lon.is_empty() && lon.len() < 2909, "{} photons", lon.len());
    assert!(lon.iter().all(|lon| *lon >= 150.0), "only photons inside the box");
    // The user's file is read, never changed.
    assert_eq!(std::fs::metadata(granules.path().join("ATL03_gt1l.h5")).unwrap().len(), real_size);
}

#[test]
fn hq_serve_warns_about_each_granule_file_it_cannot_read() {
    use std::io::{BufRead, BufReader};

    let granules = own_granules_dir();
    let data = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_hq"))
        .args(["serve", "--port", "0", "--data-dir"])
        .arg(data.path())
        .arg("--granules")
        .arg(granules.path())
        .env_remove("HQ_LOG")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The listening line comes after the scan; reading it bounds the wait by the server's start.
    let (sender, receiver) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).ok();
        sender.send(line).ok();
    });
    let line = receiver.recv_timeout(std::time::Duration::from_secs(60));
    child.kill().ok();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        line.as_deref().is_ok_and(|l| l.starts_with("hq serve: listening on http://127.0.0.1:")),
        "{line:?} {stderr}"
    );
    assert!(stderr.contains("serving 1 of your granule(s), 2 file(s) skipped"), "{stderr}");
    for name in ["ATL03_truncated.h5", "notes.h5"] {
        let warning = stderr.lines().find(|l| l.contains("WARN") && l.contains(name));
        assert!(warning.is_some_and(|w| w.contains("not a readable ATL03 or SMAP granule")), "{name}: {stderr}");
    }
}

#[tokio::test]
async fn cmr_gives_each_granule_a_data_link_and_the_size_of_its_file_once_it_exists() {
    let (fresh_dir, prepared_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let start = |dir: &tempfile::TempDir, prepare: bool| {
        let config = ServeConfig { port: 0, data_dir: dir.path().to_path_buf(), prepare, ..ServeConfig::default() };
        async move {
            let server = Server::bind(config).await.unwrap();
            let base = format!("http://{}", server.addr());
            let task = tokio::spawn(async move {
                let _ = server.run(std::future::pending()).await;
            });
            (base, task)
        }
    };
    let http = reqwest::Client::new();
    let search = |base: String| {
        let http = http.clone();
        async move {
            let body: Value = http
                .get(format!("{base}/search/granules.json?short_name=ATL03&{COLORADO}"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let entries: Vec<harmonyql::api::cmr::GranuleEntry> =
                serde_json::from_value(body["feed"]["entry"].clone()).unwrap();
            entries
        }
    };

    // A fresh server has generated nothing: no size is guessed, but every granule links to its file.
    let (base, server) = start(&fresh_dir, false).await;
    let fresh = search(base.clone()).await;
    assert_eq!(fresh.len(), 2);
    assert!(fresh.iter().all(|g| g.size_bytes().is_none()), "{fresh:?}");
    let link = fresh[0].data_links().next().expect("a data link").to_owned();
    assert_eq!(link, format!("{base}/hq/granules/{}", fresh[0].id));
    // Following the link generates the sample and serves it whole; the next answer gives its exact size.
    let bytes = http.get(&link).send().await.unwrap().error_for_status().unwrap().bytes().await.unwrap();
    assert!(bytes.starts_with(b"\x89HDF\r\n\x1a\n"), "an HDF5 file");
    let after = search(base.clone()).await;
    assert_eq!(after[0].size_bytes(), Some(bytes.len() as u64));
    assert!(after[1].size_bytes().is_none());
    let missing = http.get(format!("{base}/hq/granules/..%2Fharmony.redb")).send().await.unwrap();
    assert_eq!(missing.status(), 404, "only catalog granules, by concept ID");
    server.abort();

    // `--prepare` generates every sample before listening: every size is known at once.
    let (base, server) = start(&prepared_dir, true).await;
    let prepared = search(base).await;
    for granule in &prepared {
        let file = prepared_dir.path().join("ATL03").join(&granule.title);
        assert_eq!(granule.size_bytes(), Some(std::fs::metadata(&file).unwrap().len()), "{}", granule.title);
    }
    server.abort();
}
