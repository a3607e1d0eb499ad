//! Tests of the checker: one behaviour each, on small cells.

use super::*;
use crate::parse::parse;

fn checked(cell: &str) -> Checked {
    let parsed = parse(cell);
    assert!(parsed.diagnostics.is_empty(), "{cell}: {:?}", parsed.diagnostics);
    check(&parsed.ast, &Scope::default())
}

fn first_error(cell: &str) -> Diagnostic {
    let result = checked(cell);
    result.diagnostics.into_iter().find(Diagnostic::is_error).unwrap_or_else(|| panic!("{cell} has no error"))
}

fn subset(cell: &str) -> SubsetQuery {
    let result = checked(cell);
    assert!(!result.has_errors(), "{cell}: {:?}", result.diagnostics);
    match &result.statements[0].query {
        Query::Subset(query) => (**query).clone(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn tutorial_subset_is_typed() {
    let query = subset("subset ATL03 bbox(-105.5,40,-105,41.) time(2020-04-27..2020-05-28)");
    let Some(Spatial::BBox(bbox)) = query.spatial else { panic!() };
    assert_eq!([bbox.west.text, bbox.south.text, bbox.east.text, bbox.north.text], ["-105.5", "40", "-105", "41.0"]);
    let time = query.temporal.unwrap();
    assert_eq!(time.start.unwrap().isoformat(), "2020-04-27T00:00:00");
    assert_eq!(time.stop.unwrap().isoformat(), "2020-05-28T00:00:00");
}

#[test]
fn swapped_latitude_and_longitude_get_a_fix() {
    let d = first_error("subset ATL03 bbox(40, -105.5, 41, -105)");
    assert_eq!(d.code, "bbox-swapped");
    assert_eq!(d.fix.unwrap().replacement, "bbox(-105.5, 40, -105, 41)");
}

#[test]
fn bbox_rules_of_harmony_py_hold() {
    for (cell, code) in [
        ("subset A bbox(1, 2, 3)", "bbox-arity"),
        ("subset A bbox(-181, 0, 10, 10)", "out-of-range"),
        ("subset A bbox(0, 10, 10, 5)", "bbox-south-north"),
        ("subset A bbox(100, -91, 110, 5)", "out-of-range"),
        ("subset A bbox(a, 1, 2, 3)", "expected-number"),
    ] {
        assert_eq!(first_error(cell).code, code, "{cell}");
    }
    let query = subset("subset A bbox(170, -10, -170, 10)");
    assert!(query.spatial.is_some(), "west > east crosses the antimeridian and is allowed");
    let warned = checked("subset A bbox(-105, 40, -105.5, 41)");
    assert_eq!(warned.diagnostics[0].code, "bbox-antimeridian");
    assert!(!warned.has_errors());
}

#[test]
fn time_rules_hold() {
    assert_eq!(
        first_error("subset A time(2020-05-28 .. 2020-04-27)").fix.unwrap().replacement,
        "2020-04-27 .. 2020-05-28"
    );
    assert_eq!(first_error("subset A time(2020-05-28 .. 2020-05-28)").code, "time-order");
    assert_eq!(first_error("subset A time(..)").code, "time-empty");
    assert_eq!(first_error("subset A time(2020-02-30 ..)").code, "bad-date");
    assert_eq!(first_error("subset A time(2020-04-27)").fix.unwrap().replacement, "2020-04-27 .. 2020-04-28");
    let query = subset("subset A time(2020-01-01T00:00:00Z ..)");
    assert_eq!(query.temporal.unwrap().start.unwrap().isoformat(), "2020-01-01T00:00:00+00:00");
    let query = subset("subset A time(.. \"2020-01-01 10:30:15.5-05:00\")");
    assert_eq!(query.temporal.unwrap().stop.unwrap().isoformat(), "2020-01-01T10:30:15.500000-05:00");
}

#[test]
fn wkt_geometries_are_validated() {
    let query = subset("subset A polygon((-140 20, -50 20, -50 60, -140 60, -140 20))");
    let Some(Spatial::Wkt(wkt)) = query.spatial else { panic!() };
    assert_eq!(wkt.text, "POLYGON((-140 20, -50 20, -50 60, -140 60, -140 20))");
    assert_eq!(wkt.kind.edr_route(), "area");
    assert_eq!(
        first_error("subset A polygon((0 0, 1 0, 1 1, 0 1))").message,
        "the polygon ring is not closed: its last point must repeat the first"
    );
    assert_eq!(first_error("subset A linestring(0 0)").code, "bad-wkt");
    assert_eq!(first_error("subset A point(1)").code, "bad-wkt");
    assert_eq!(first_error("subset A wkt(\"CIRCULARSTRING(0 0, 1 1, 1 0)\")").code, "unsupported-wkt");
    assert_eq!(first_error("subset A wkt(\"APOINT(0 51.48)\")").code, "unsupported-wkt");
    assert_eq!(first_error("subset A wkt(\"BBOX(-140,20,-50,60)\")").code, "unsupported-wkt");
    let query = subset("subset A wkt(\"MULTIPOINT((1 2), (3 4))\")");
    assert!(matches!(query.spatial, Some(Spatial::Wkt(Wkt { kind: WktKind::MultiPoint, .. }))));
    assert_eq!(first_error("subset A point(1 2) bbox(1, 2, 3, 4)").code, "two-spatial");
    assert_eq!(first_error("subset A point(1 2) shape(\"a.geojson\")").code, "shape-with-wkt");
}

#[test]
fn other_parameters_follow_harmony_rules() {
    for (cell, code) in [
        ("subset A shape(\"area.shp\")", "shape-extension"),
        ("subset A dim(lev, 20 .. 10)", "dim-order"),
        ("subset A destination https://bucket", "destination-not-s3"),
        ("subset A format geotif", "unknown-format"),
        ("subset A limit 0", "out-of-range"),
        ("subset A limit 1.5", "out-of-range"),
        ("subset A vars()", "empty-list"),
        ("subset A average volume", "bad-choice"),
        ("subset A grid g crs EPSG:4326", "grid-conflict"),
        ("subset A bbox(1,2,3,4) bbox(1,2,3,4)", "duplicate-clause"),
        ("subset A label(\" \")", "empty-label"),
        ("subset A crs EPSG:x", "bad-crs"),
    ] {
        assert_eq!(first_error(cell).code, code, "{cell}");
    }
    assert_eq!(first_error("subset A format geotif").fix.unwrap().replacement, "geotiff");
    let query = subset("subset A format netcdf4 granule(G1-PROV, SMAP*.h5) limit 3 skip preview ignore errors false");
    assert_eq!(query.format.as_deref(), Some("application/x-netcdf4"));
    assert_eq!((query.granule_ids, query.granule_names), (vec!["G1-PROV".to_owned()], vec!["SMAP*.h5".to_owned()]));
    assert_eq!((query.max_results, query.skip_preview, query.ignore_errors), (Some(3), Some(true), Some(false)));
}

#[test]
fn jobs_are_named_or_the_last_one() {
    let result = checked("job = subset ATL03\nwait job\nstatus\nresults job s3 page 2");
    assert!(!result.has_errors(), "{:?}", result.diagnostics);
    assert_eq!(result.statements[1].query, Query::Job(JobAction::Wait, JobRef::Name("job".into())));
    assert_eq!(result.statements[2].query, Query::Job(JobAction::Status, JobRef::Last));
    assert_eq!(first_error("wait").code, "no-job");
    let d = first_error("job = subset ATL03\nwait jbo");
    assert_eq!(d.fix.unwrap().replacement, "job");
    let result = checked("status 21469294-d6f7-42cc-89f2-c81990a5d7f4");
    assert_eq!(
        result.statements[0].query,
        Query::Job(JobAction::Status, JobRef::Id("21469294-d6f7-42cc-89f2-c81990a5d7f4".into()))
    );
}

#[test]
fn batches_of_jobs_wait_and_download_together() {
    let result = checked("a = subset A\nb = subset B\nwait (a, b)\ndownload (a, b) s3 to \"d\"\ndownload a");
    assert!(!result.has_errors(), "{:?}", result.diagnostics);
    let both = vec![JobRef::Name("a".into()), JobRef::Name("b".into())];
    assert_eq!(result.statements[2].query, Query::WaitJobs(both.clone()));
    assert_eq!(
        result.statements[3].query,
        Query::Download(DownloadQuery {
            jobs: both,
            link_type: LinkType::S3,
            directory: Some("d".into()),
            overwrite: false
        })
    );
    let Query::Download(single) = &result.statements[4].query else { panic!() };
    assert_eq!((&single.jobs[..], single.link_type), (&[JobRef::Name("a".into())][..], LinkType::Https));
    for (cell, code) in [
        ("a = subset A\nwait (a, c)", "unknown-job"),
        ("a = subset A\nwait ()", "expected-job"),
        ("a = subset A\ndownload a ftp", "bad-link-type"),
    ] {
        assert_eq!(first_error(cell).code, code, "{cell}");
    }
}

#[test]
fn steps_resolve_files_needs_work_items() {
    assert_eq!(
        first_error("steps 21469294-d6f7-42cc-89f2-c81990a5d7f4 resolve files").code,
        "resolve-needs-work-items"
    );
}

#[test]
fn secrets_are_refused_in_cells() {
    assert_eq!(first_error("login token abc123").code, "secret-in-cell");
}

#[test]
fn url_only_shows_single_requests() {
    assert_eq!(first_error("url env local").code, "not-a-request");
    assert!(!checked("url capabilities ATL03").has_errors());
}

#[test]
fn names_must_exist_and_hold_values() {
    assert_eq!(first_error("jbo").code, "unknown-name");
    assert_eq!(first_error("x = env local").code, "nothing-to-name");
    assert_eq!(first_error("open files").code, "unknown-name");
    assert!(!checked("job = subset A\nfiles = download job\nopen files group gt1l/heights").has_errors());
}

#[test]
fn a_secret_typed_after_login_is_never_repeated() {
    // `login token SECRET` once echoed the token: in the caret line under the error, in the message of
    // a third word, and lower-cased in `unknown login method`. Every rendering is scanned.
    let cells = [
        "login token Hunter2xyz123",
        "login token \"Hunter2 xyz\"",
        "login Hunter2abc",
        "login user alice Hunter2def",
        "login alice Hunter2ghi",
        "login token=Hunter2jkl",
        "creds = login Hunter2mno Hunter2pqr",
        "LOGIN Token Hunter2stu # pasted",
    ];
    for cell in cells {
        let parsed = parse(cell);
        let mut diagnostics = parsed.diagnostics;
        diagnostics.extend(check(&parsed.ast, &Scope::default()).diagnostics);
        assert!(diagnostics.iter().any(Diagnostic::is_error), "{cell}: refused");
        for d in &diagnostics {
            let shown = [
                d.render_plain(cell, "cell"),
                d.render_ansi(cell, "cell"),
                d.render_html(cell),
                d.render_short(cell, "cell"),
                format!("{:?}", d.fix),
            ]
            .join("\n");
            assert!(!shown.to_ascii_lowercase().contains("hunter2"), "{cell}:\n{shown}");
        }
    }
    // A typo is still named, with its fix.
    let d = first_error("login tokn");
    assert_eq!(d.code, "unknown-login");
    assert!(d.message.contains("`tokn`") && d.label.as_deref() == Some("did you mean `token`?"), "{d:?}");
}
