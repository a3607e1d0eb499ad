//! The vocabulary: statement verbs and clause names, with their forms and one-line docs.
//!
//! One table serves the parser (which form a clause takes), the checker (which clauses a statement
//! accepts), completion and inspection (docs and examples), and `help`. Multi-word names such as
//! `skip preview` may be typed with a space or an underscore.

/// A statement's leading keyword.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verb {
    /// `env prod|uat|sit|local|URL`: choose the Harmony to talk to.
    Env,
    /// `set label harmony-py`: session settings.
    Set,
    /// `login [token|netrc|env|user NAME]`: Earthdata Login.
    Login,
    /// `logout`: forget credentials.
    Logout,
    /// `capabilities COLLECTION [version V]`.
    Capabilities,
    /// `subset COLLECTION clauses…`: a transformation request.
    Subset,
    /// `collections "TEXT" | SHORT_NAME clauses…`: search CMR for collections.
    Collections,
    /// `granules COLLECTION clauses…`: search CMR for a collection's granules.
    Granules,
    /// `jobs [page N] [limit N] [label(…)]`: list jobs.
    Jobs,
    /// `labels add(…)|remove(…) to|from JOB…`.
    Labels,
    /// `steps [JOB] clauses…`: a job's steps and work items.
    Steps,
    /// `wait [JOB]`, `wait (JOB, …)`.
    Wait,
    /// `status [JOB]`.
    Status,
    /// `pause [JOB]`.
    Pause,
    /// `resume [JOB]`.
    Resume,
    /// `cancel [JOB]`.
    Cancel,
    /// `skip preview [JOB]`.
    SkipPreview,
    /// `results [JOB] [https|http|s3] [page N] [limit N]`.
    Results,
    /// `download [JOB | (JOB, …)] [https|s3] [to "dir"] [overwrite]`.
    Download,
    /// `stac [JOB]`: the job's STAC catalog.
    Stac,
    /// `open FILE [group G]`.
    Open,
    /// `plot [KIND] [TARGET] clauses…`.
    Plot,
    /// `export TARGET [group G] [beam B] to "FILE.csv|FILE.geojson"`.
    Export,
    /// `help [TOPIC]`.
    Help,
    /// `print "text"`.
    Print,
    /// `warn "text"`: to standard error.
    Warn,
    /// `clear`: clear the cell's output.
    Clear,
    /// `url STATEMENT`: the request as a GET URL.
    Url,
    /// `curl STATEMENT`: the request as a curl command.
    Curl,
    /// `NAME`: show a bound value.
    Show,
}

/// What a verb does, for help, completion and inspection.
#[derive(Debug)]
pub struct VerbInfo {
    /// The verb.
    pub verb: Verb,
    /// Its name as typed (`skip_preview` also matches `skip preview`).
    pub name: &'static str,
    /// Usage line.
    pub usage: &'static str,
    /// One sentence.
    pub doc: &'static str,
    /// A line that works.
    pub example: &'static str,
}

/// The form of a clause's argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// `name(arguments)`.
    Call,
    /// `name value`.
    Value,
    /// `name` alone, or `name true|false`.
    Flag,
}

/// A clause that may follow a statement's positional arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[allow(missing_docs)]
pub enum ClauseName {
    Bbox,
    Time,
    Point,
    MultiPoint,
    LineString,
    MultiLineString,
    Polygon,
    MultiPolygon,
    Wkt,
    Shape,
    Dim,
    Vars,
    Granule,
    GranuleId,
    GranuleName,
    Limit,
    Crs,
    Format,
    ScaleExtent,
    ScaleSize,
    Width,
    Height,
    Interpolation,
    Grid,
    Average,
    Concatenate,
    SkipPreview,
    IgnoreErrors,
    PixelSubset,
    Destination,
    Label,
    Service,
    Extend,
    Version,
    Page,
    Step,
    Status,
    WorkItems,
    ResolveFiles,
    WiLimit,
    StepPage,
    InputPage,
    OutputPage,
    Add,
    Remove,
    To,
    From,
    Overwrite,
    Group,
    Beam,
    By,
    Confidence,
    Surface,
    Var,
    Provider,
    Cloud,
}

/// A clause's name, form and docs.
#[derive(Debug)]
pub struct ClauseInfo {
    /// The clause.
    pub name: ClauseName,
    /// Its name as typed, with `_` between words.
    pub keyword: &'static str,
    /// Its form.
    pub form: Form,
    /// Usage, e.g. `bbox(west, south, east, north)`.
    pub usage: &'static str,
    /// One sentence.
    pub doc: &'static str,
}

/// Every verb, in the order help lists them.
pub const VERBS: &[VerbInfo] = &[
    VerbInfo {
        verb: Verb::Env,
        name: "env",
        usage: "env prod|uat|sit|local[:PORT]|URL",
        doc: "choose the Harmony to talk to; `env` alone shows the current one",
        example: "env local",
    },
    VerbInfo {
        verb: Verb::Set,
        name: "set",
        usage: "set label NAME|off",
        doc: "change a session setting: the label added to every job (default `harmonyql`)",
        example: "set label off",
    },
    VerbInfo {
        verb: Verb::Login,
        name: "login",
        usage: "login [token|netrc|env|user NAME]",
        doc: "log in to Earthdata Login; passwords and tokens are asked for, never typed into cells",
        example: "login netrc",
    },
    VerbInfo {
        verb: Verb::Logout,
        name: "logout",
        usage: "logout",
        doc: "forget the session's credentials",
        example: "logout",
    },
    VerbInfo {
        verb: Verb::Capabilities,
        name: "capabilities",
        usage: "capabilities COLLECTION [version 1|2|3-alpha]",
        doc: "what Harmony can do with a collection (short name or concept ID): operations, formats, services, variables",
        example: "capabilities ATL03",
    },
    VerbInfo {
        verb: Verb::Subset,
        name: "subset",
        usage: "subset COLLECTION [bbox(…)] [time(…)] [vars(…)] [format F] …",
        doc: "submit a transformation request; the result is a job",
        example: "subset ATL03 bbox(-105.5, 40, -105, 41) time(2020-04-27 .. 2020-05-28)",
    },
    VerbInfo {
        verb: Verb::Collections,
        name: "collections",
        usage: "collections \"TEXT\" | SHORT_NAME | CONCEPT_ID [provider P] [version V] [cloud] [bbox(…)] [time(…)] [limit N]",
        doc: "search NASA's CMR for collections, by keyword (a quoted text) or short name; no login needed",
        example: "collections \"sea ice\" cloud limit 5",
    },
    VerbInfo {
        verb: Verb::Granules,
        name: "granules",
        usage: "granules COLLECTION [bbox(…)|WKT|shape(…)] [time(…)] [provider P] [version V] [limit N]",
        doc: "search CMR for a collection's granules: how many, how large, and the first N (name, times, size, links)",
        example: "granules ATL03 bbox(-105.5, 40, -105, 41) time(2020-04-27 .. 2020-05-28)",
    },
    VerbInfo {
        verb: Verb::Jobs,
        name: "jobs",
        usage: "jobs [page N] [limit N] [label(L, …)]",
        doc: "list your jobs, newest first",
        example: "jobs limit 5",
    },
    VerbInfo {
        verb: Verb::Labels,
        name: "labels",
        usage: "labels add(L, …) to JOB | labels remove(L, …) from JOB",
        doc: "add labels to jobs or remove them",
        example: "labels add(colorado) to job",
    },
    VerbInfo {
        verb: Verb::Steps,
        name: "steps",
        usage: "steps [JOB] [step N] [status(S, …)] [work_items(N, …)] [resolve_files] …",
        doc: "a job's processing steps and work items",
        example: "steps job",
    },
    VerbInfo {
        verb: Verb::Wait,
        name: "wait",
        usage: "wait [JOB] | wait (JOB, JOB, …)",
        doc: "follow a job (or several, polled together) until it finishes or pauses, with a progress bar",
        example: "wait job",
    },
    VerbInfo {
        verb: Verb::Status,
        name: "status",
        usage: "status [JOB]",
        doc: "a job's status, progress and message",
        example: "status job",
    },
    VerbInfo {
        verb: Verb::Pause,
        name: "pause",
        usage: "pause [JOB]",
        doc: "pause a running job",
        example: "pause job",
    },
    VerbInfo {
        verb: Verb::Resume,
        name: "resume",
        usage: "resume [JOB]",
        doc: "resume a paused job",
        example: "resume job",
    },
    VerbInfo { verb: Verb::Cancel, name: "cancel", usage: "cancel [JOB]", doc: "cancel a job", example: "cancel job" },
    VerbInfo {
        verb: Verb::SkipPreview,
        name: "skip_preview",
        usage: "skip preview [JOB]",
        doc: "let a job that paused for preview run to the end",
        example: "skip preview job",
    },
    VerbInfo {
        verb: Verb::Results,
        name: "results",
        usage: "results [JOB] [https|http|s3] [page N] [limit N]",
        doc: "the job's result links",
        example: "results job",
    },
    VerbInfo {
        verb: Verb::Download,
        name: "download",
        usage: "download [JOB | (JOB, JOB, …)] [https|s3] [to \"DIR\"] [overwrite]",
        doc: "download the results of a job or several (s3: directly from S3 with /cloud-access credentials, in us-west-2); the value is the list of local files",
        example: "download job to \"data\"",
    },
    VerbInfo {
        verb: Verb::Stac,
        name: "stac",
        usage: "stac [JOB]",
        doc: "the job's STAC catalog",
        example: "stac job",
    },
    VerbInfo {
        verb: Verb::Open,
        name: "open",
        usage: "open FILE|NAME [group G]",
        doc: "show what is in an HDF5 or GeoTIFF file",
        example: "open files group gt1l/heights",
    },
    VerbInfo {
        verb: Verb::Plot,
        name: "plot",
        usage: "plot [photons|track|raster|histogram|series|granules] FILE|NAME [beam B] [var PATH] [by distance|latitude|time] [confidence 0..4] [surface S]",
        doc: "plot a downloaded file (photon cloud, ground tracks, raster map, histogram or time series), or the footprints of a `granules` result on a map",
        example: "plot photons files beam gt1l confidence 3",
    },
    VerbInfo {
        verb: Verb::Export,
        name: "export",
        usage: "export FILE|NAME [group G] [beam B] to \"OUT.csv\"|\"OUT.geojson\"",
        doc: "write a group's 1-D datasets as CSV (one row per index), or ATL03 ground tracks as GeoJSON",
        example: "export files group gt1l/heights to \"gt1l.csv\"",
    },
    VerbInfo {
        verb: Verb::Help,
        name: "help",
        usage: "help [TOPIC]",
        doc: "help on statements and clauses",
        example: "help subset",
    },
    VerbInfo {
        verb: Verb::Print,
        name: "print",
        usage: "print \"TEXT\"",
        doc: "print text",
        example: "print \"hello, world\"",
    },
    VerbInfo {
        verb: Verb::Warn,
        name: "warn",
        usage: "warn \"TEXT\"",
        doc: "print text to standard error",
        example: "warn \"this may take a while\"",
    },
    VerbInfo {
        verb: Verb::Clear,
        name: "clear",
        usage: "clear",
        doc: "clear what this cell has shown so far (in notebooks)",
        example: "clear",
    },
    VerbInfo {
        verb: Verb::Url,
        name: "url",
        usage: "url STATEMENT",
        doc: "show a request as the URL harmony-py's request_as_url would give, without sending it",
        example: "url subset ATL03 bbox(-105.5, 40, -105, 41)",
    },
    VerbInfo {
        verb: Verb::Curl,
        name: "curl",
        usage: "curl STATEMENT",
        doc: "show a request as the curl command that sends it, secrets masked, without sending it",
        example: "curl capabilities ATL03",
    },
];

/// Every clause.
pub const CLAUSES: &[ClauseInfo] = &[
    ClauseInfo {
        name: ClauseName::Bbox,
        keyword: "bbox",
        form: Form::Call,
        usage: "bbox(west, south, east, north)",
        doc: "bounding box in degrees; west > east crosses the antimeridian",
    },
    ClauseInfo {
        name: ClauseName::Time,
        keyword: "time",
        form: Form::Call,
        usage: "time(START .. STOP)",
        doc: "time range; dates or date-times with an optional zone; either end may be left open",
    },
    ClauseInfo {
        name: ClauseName::Point,
        keyword: "point",
        form: Form::Call,
        usage: "point(LON LAT)",
        doc: "a WKT point (sent to OGC EDR position)",
    },
    ClauseInfo {
        name: ClauseName::MultiPoint,
        keyword: "multipoint",
        form: Form::Call,
        usage: "multipoint((LON LAT), …)",
        doc: "a WKT multipoint (OGC EDR position)",
    },
    ClauseInfo {
        name: ClauseName::LineString,
        keyword: "linestring",
        form: Form::Call,
        usage: "linestring(LON LAT, …)",
        doc: "a WKT line (OGC EDR trajectory)",
    },
    ClauseInfo {
        name: ClauseName::MultiLineString,
        keyword: "multilinestring",
        form: Form::Call,
        usage: "multilinestring((LON LAT, …), …)",
        doc: "WKT lines (OGC EDR trajectory)",
    },
    ClauseInfo {
        name: ClauseName::Polygon,
        keyword: "polygon",
        form: Form::Call,
        usage: "polygon((LON LAT, …))",
        doc: "a WKT polygon, rings closed (OGC EDR area)",
    },
    ClauseInfo {
        name: ClauseName::MultiPolygon,
        keyword: "multipolygon",
        form: Form::Call,
        usage: "multipolygon(((LON LAT, …)), …)",
        doc: "WKT polygons (OGC EDR area)",
    },
    ClauseInfo {
        name: ClauseName::Wkt,
        keyword: "wkt",
        form: Form::Call,
        usage: "wkt(\"POLYGON((…))\")",
        doc: "any supported WKT geometry as a string",
    },
    ClauseInfo {
        name: ClauseName::Shape,
        keyword: "shape",
        form: Form::Call,
        usage: "shape(\"FILE\")",
        doc: "a GeoJSON (.json, .geojson), KML (.kml) or zipped shapefile (.zip, .shz) to subset by",
    },
    ClauseInfo {
        name: ClauseName::Dim,
        keyword: "dim",
        form: Form::Call,
        usage: "dim(NAME, MIN .. MAX)",
        doc: "subset any dimension; either end may be left open",
    },
    ClauseInfo {
        name: ClauseName::Vars,
        keyword: "vars",
        form: Form::Call,
        usage: "vars(VAR, …)",
        doc: "variables to keep (full paths); `all` keeps everything",
    },
    ClauseInfo {
        name: ClauseName::Granule,
        keyword: "granule",
        form: Form::Call,
        usage: "granule(ID or NAME, …)",
        doc: "granules by concept ID (G…-PROV) or by name, `*` and `?` wildcards allowed",
    },
    ClauseInfo {
        name: ClauseName::GranuleId,
        keyword: "granule_id",
        form: Form::Call,
        usage: "granule_id(ID, …)",
        doc: "granules by concept ID",
    },
    ClauseInfo {
        name: ClauseName::GranuleName,
        keyword: "granule_name",
        form: Form::Call,
        usage: "granule_name(NAME, …)",
        doc: "granules by name, `*` and `?` wildcards allowed",
    },
    ClauseInfo {
        name: ClauseName::Limit,
        keyword: "limit",
        form: Form::Value,
        usage: "limit N",
        doc: "at most N granules (subset), items (listings) or search results (collections, granules)",
    },
    ClauseInfo {
        name: ClauseName::Crs,
        keyword: "crs",
        form: Form::Value,
        usage: "crs EPSG:4326",
        doc: "reproject to this CRS (EPSG code, proj4 string or OGC URL)",
    },
    ClauseInfo {
        name: ClauseName::Format,
        keyword: "format",
        form: Form::Value,
        usage: "format geotiff|netcdf4|zarr|hdf5|png|…|MIME",
        doc: "output format, by friendly name or MIME type",
    },
    ClauseInfo {
        name: ClauseName::ScaleExtent,
        keyword: "scale_extent",
        form: Form::Call,
        usage: "scale_extent(XMIN, YMIN, XMAX, YMAX)",
        doc: "output extent in the output CRS",
    },
    ClauseInfo {
        name: ClauseName::ScaleSize,
        keyword: "scale_size",
        form: Form::Call,
        usage: "scale_size(X, Y)",
        doc: "output pixel size in the output CRS",
    },
    ClauseInfo {
        name: ClauseName::Width,
        keyword: "width",
        form: Form::Value,
        usage: "width N",
        doc: "output width in pixels",
    },
    ClauseInfo {
        name: ClauseName::Height,
        keyword: "height",
        form: Form::Value,
        usage: "height N",
        doc: "output height in pixels",
    },
    ClauseInfo {
        name: ClauseName::Interpolation,
        keyword: "interpolation",
        form: Form::Value,
        usage: "interpolation NAME",
        doc: "interpolation for reprojection and scaling, e.g. nearest, bilinear",
    },
    ClauseInfo {
        name: ClauseName::Grid,
        keyword: "grid",
        form: Form::Value,
        usage: "grid NAME",
        doc: "a named UMM grid to output on",
    },
    ClauseInfo {
        name: ClauseName::Average,
        keyword: "average",
        form: Form::Value,
        usage: "average time|area",
        doc: "average over time or area",
    },
    ClauseInfo {
        name: ClauseName::Concatenate,
        keyword: "concatenate",
        form: Form::Flag,
        usage: "concatenate [true|false]",
        doc: "concatenate outputs into one file",
    },
    ClauseInfo {
        name: ClauseName::SkipPreview,
        keyword: "skip_preview",
        form: Form::Flag,
        usage: "skip preview [true|false]",
        doc: "never pause a large job for preview",
    },
    ClauseInfo {
        name: ClauseName::IgnoreErrors,
        keyword: "ignore_errors",
        form: Form::Flag,
        usage: "ignore errors [true|false]",
        doc: "keep going when some granules fail (Harmony's default); `ignore errors false` fails the job at the first error",
    },
    ClauseInfo {
        name: ClauseName::PixelSubset,
        keyword: "pixel_subset",
        form: Form::Flag,
        usage: "pixel subset [true|false]",
        doc: "subset by pixel rather than by coordinate",
    },
    ClauseInfo {
        name: ClauseName::Destination,
        keyword: "destination",
        form: Form::Value,
        usage: "destination s3://BUCKET/PATH",
        doc: "write results to your own S3 bucket in us-west-2",
    },
    ClauseInfo {
        name: ClauseName::Label,
        keyword: "label",
        form: Form::Call,
        usage: "label(L, …)",
        doc: "labels for the job (subset) or to filter by (jobs)",
    },
    ClauseInfo {
        name: ClauseName::Service,
        keyword: "service",
        form: Form::Value,
        usage: "service S1234-PROV",
        doc: "use this service (UMM-S concept ID or chain name)",
    },
    ClauseInfo {
        name: ClauseName::Extend,
        keyword: "extend",
        form: Form::Call,
        usage: "extend(DIM, …)",
        doc: "dimensions to extend",
    },
    ClauseInfo {
        name: ClauseName::Version,
        keyword: "version",
        form: Form::Value,
        usage: "version 1|2|3-alpha | version 006",
        doc: "capabilities document version (2 by default); for `collections` and `granules`, the collection's version",
    },
    ClauseInfo {
        name: ClauseName::Page,
        keyword: "page",
        form: Form::Value,
        usage: "page N",
        doc: "page of a listing, from 1",
    },
    ClauseInfo { name: ClauseName::Step, keyword: "step", form: Form::Value, usage: "step N", doc: "only this step" },
    ClauseInfo {
        name: ClauseName::Status,
        keyword: "status",
        form: Form::Call,
        usage: "status(S, …)",
        doc: "only work items in these states",
    },
    ClauseInfo {
        name: ClauseName::WorkItems,
        keyword: "work_items",
        form: Form::Call,
        usage: "work_items(N, …)",
        doc: "only these work items",
    },
    ClauseInfo {
        name: ClauseName::ResolveFiles,
        keyword: "resolve_files",
        form: Form::Flag,
        usage: "resolve files",
        doc: "list the work items' input and output files (needs work_items)",
    },
    ClauseInfo {
        name: ClauseName::WiLimit,
        keyword: "wi_limit",
        form: Form::Value,
        usage: "wi_limit N",
        doc: "work items per step",
    },
    ClauseInfo {
        name: ClauseName::StepPage,
        keyword: "step_page",
        form: Form::Call,
        usage: "step_page(STEP, PAGE)",
        doc: "page of a step's work items",
    },
    ClauseInfo {
        name: ClauseName::InputPage,
        keyword: "input_page",
        form: Form::Call,
        usage: "input_page(WORK_ITEM, PAGE)",
        doc: "page of a work item's input files",
    },
    ClauseInfo {
        name: ClauseName::OutputPage,
        keyword: "output_page",
        form: Form::Call,
        usage: "output_page(WORK_ITEM, PAGE)",
        doc: "page of a work item's output files",
    },
    ClauseInfo { name: ClauseName::Add, keyword: "add", form: Form::Call, usage: "add(L, …)", doc: "labels to add" },
    ClauseInfo {
        name: ClauseName::Remove,
        keyword: "remove",
        form: Form::Call,
        usage: "remove(L, …)",
        doc: "labels to remove",
    },
    ClauseInfo {
        name: ClauseName::To,
        keyword: "to",
        form: Form::Value,
        usage: "to TARGET",
        doc: "where: a directory (download), jobs (labels) or a .csv/.geojson file (export)",
    },
    ClauseInfo {
        name: ClauseName::From,
        keyword: "from",
        form: Form::Value,
        usage: "from JOB",
        doc: "jobs to remove labels from",
    },
    ClauseInfo {
        name: ClauseName::Overwrite,
        keyword: "overwrite",
        form: Form::Flag,
        usage: "overwrite",
        doc: "download again even if the file is there",
    },
    ClauseInfo {
        name: ClauseName::Group,
        keyword: "group",
        form: Form::Value,
        usage: "group PATH",
        doc: "an HDF5 group, e.g. gt1l/heights",
    },
    ClauseInfo {
        name: ClauseName::Beam,
        keyword: "beam",
        form: Form::Value,
        usage: "beam gt1l",
        doc: "an ICESat-2 beam",
    },
    ClauseInfo {
        name: ClauseName::By,
        keyword: "by",
        form: Form::Value,
        usage: "by distance|latitude|time",
        doc: "the x axis of a photon plot: along-track distance, latitude (the default) or time",
    },
    ClauseInfo {
        name: ClauseName::Confidence,
        keyword: "confidence",
        form: Form::Value,
        usage: "confidence 0..4",
        doc: "lowest signal confidence to show",
    },
    ClauseInfo {
        name: ClauseName::Surface,
        keyword: "surface",
        form: Form::Value,
        usage: "surface land|ocean|sea_ice|land_ice|inland_water",
        doc: "surface type for signal confidence",
    },
    ClauseInfo {
        name: ClauseName::Var,
        keyword: "var",
        form: Form::Value,
        usage: "var \"GROUP/NAME\"",
        doc: "the variable to plot, e.g. \"gt1l/heights/h_ph\" or \"Soil_Moisture_Retrieval_Data_AM/soil_moisture\"",
    },
    ClauseInfo {
        name: ClauseName::Provider,
        keyword: "provider",
        form: Form::Value,
        usage: "provider NSIDC_CPRD",
        doc: "only collections (or granules) of this CMR provider",
    },
    ClauseInfo {
        name: ClauseName::Cloud,
        keyword: "cloud",
        form: Form::Flag,
        usage: "cloud [true|false]",
        doc: "only collections in NASA's cloud (Earthdata Cloud), or with `false` only those outside it",
    },
];

impl Verb {
    /// This verb's table entry.
    pub fn info(self) -> &'static VerbInfo {
        VERBS.iter().find(|info| info.verb == self).unwrap_or(&SHOW_INFO)
    }

    /// The clauses this verb accepts.
    pub fn clauses(self) -> &'static [ClauseName] {
        use ClauseName::*;
        match self {
            Verb::Subset => &[
                Bbox,
                Time,
                Point,
                MultiPoint,
                LineString,
                MultiLineString,
                Polygon,
                MultiPolygon,
                Wkt,
                Shape,
                Dim,
                Vars,
                Granule,
                GranuleId,
                GranuleName,
                Limit,
                Crs,
                Format,
                ScaleExtent,
                ScaleSize,
                Width,
                Height,
                Interpolation,
                Grid,
                Average,
                Concatenate,
                SkipPreview,
                IgnoreErrors,
                PixelSubset,
                Destination,
                Label,
                Service,
                Extend,
            ],
            Verb::Capabilities => &[Version],
            Verb::Collections => &[
                Provider,
                Version,
                Cloud,
                Bbox,
                Time,
                Point,
                MultiPoint,
                LineString,
                MultiLineString,
                Polygon,
                MultiPolygon,
                Wkt,
                Shape,
                Limit,
            ],
            Verb::Granules => &[
                Provider,
                Version,
                Bbox,
                Time,
                Point,
                MultiPoint,
                LineString,
                MultiLineString,
                Polygon,
                MultiPolygon,
                Wkt,
                Shape,
                Limit,
            ],
            Verb::Jobs => &[Page, Limit, Label],
            Verb::Labels => &[Add, Remove, To, From],
            Verb::Steps => &[Step, Status, WorkItems, Limit, ResolveFiles, WiLimit, StepPage, InputPage, OutputPage],
            Verb::Results => &[Page, Limit],
            Verb::Download => &[To, Overwrite],
            Verb::Open => &[Group],
            Verb::Plot => &[Group, Beam, By, Confidence, Surface, Var],
            Verb::Export => &[Group, Beam, To],
            _ => &[],
        }
    }

    /// The verb spelled `word` (`skip_preview` for the two-word form), if any.
    pub fn from_keyword(word: &str) -> Option<Verb> {
        VERBS.iter().find(|info| info.name.eq_ignore_ascii_case(word)).map(|info| info.verb)
    }
}

const SHOW_INFO: VerbInfo =
    VerbInfo { verb: Verb::Show, name: "NAME", usage: "NAME", doc: "show the value bound to NAME", example: "job" };

impl ClauseName {
    /// This clause's table entry.
    pub fn info(self) -> &'static ClauseInfo {
        CLAUSES.iter().find(|info| info.name == self).expect("every clause name has a table entry")
    }

    /// The clause spelled `word` (multi-word names joined with `_`), if any.
    pub fn from_keyword(word: &str) -> Option<ClauseName> {
        CLAUSES.iter().find(|info| info.keyword.eq_ignore_ascii_case(word)).map(|info| info.name)
    }

    /// Whether this clause is a WKT geometry.
    pub fn is_wkt(self) -> bool {
        use ClauseName::*;
        matches!(self, Point | MultiPoint | LineString | MultiLineString | Polygon | MultiPolygon | Wkt)
    }
}

/// The keyword nearest to `word` among `candidates`, if it is near enough to be a likely typo.
///
/// ```
/// use harmonyql_lang::keyword::nearest;
/// assert_eq!(nearest("bbx", ["bbox", "time", "vars"]), Some("bbox"));
/// assert_eq!(nearest("zzzzzz", ["bbox", "time"]), None);
/// ```
pub fn nearest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let word = word.to_ascii_lowercase();
    // The first three characters, not bytes: a word may be any text the user typed (`ré…` split at byte 3
    // panicked, found by the fuzzer).
    let head: String = word.chars().take(3).collect();
    let mut best: Option<(usize, &str)> = None;
    for candidate in candidates {
        let distance = edit_distance(&word, candidate);
        let limit = (candidate.len().max(word.len()) / 3).max(1);
        let prefix_match = candidate.len() > 2 && head.chars().count() == 3 && candidate.starts_with(&head);
        if (distance <= limit || (prefix_match && distance <= limit + 1)) && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, candidate)| candidate)
}

/// Levenshtein distance counting an adjacent swap as one edit (optimal string alignment).
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1).min(rows[i][j - 1] + 1).min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

#[cfg(test)]
mod tests {

    /// Regression (found by the fuzzer): a word whose third byte is inside a character made the prefix
    /// comparison slice through it and panic.
    #[test]
    fn nearest_takes_any_text_including_multibyte_words() {
        assert_eq!(nearest("reé", ["results", "resume"]), None);
        assert_eq!(nearest("re\u{5db}limit", ["results", "resume"]), None);
        assert_eq!(nearest("ré", ["re"]), Some("re"));
        assert_eq!(nearest("résults", ["results"]), Some("results"));
    }

    use super::*;

    #[test]
    fn every_verb_but_show_has_a_table_entry() {
        // Verb has 30 variants; Show (a bare name) is the one without a keyword.
        assert_eq!(VERBS.len(), 29);
        for info in VERBS {
            assert_eq!(Verb::from_keyword(info.name), Some(info.verb));
            assert_eq!(info.verb.info().name, info.name);
        }
    }

    #[test]
    fn every_clause_a_verb_accepts_has_docs() {
        for info in VERBS {
            for clause in info.verb.clauses() {
                assert!(!clause.info().doc.is_empty());
            }
        }
    }

    #[test]
    fn typos_find_their_keyword() {
        let clauses = Verb::Subset.clauses().iter().map(|c| c.info().keyword);
        assert_eq!(nearest("tiem", clauses.clone()), Some("time"));
        assert_eq!(nearest("fromat", clauses.clone()), Some("format"));
        assert_eq!(nearest("varz", clauses.clone()), Some("vars"));
        assert_eq!(nearest("subst", VERBS.iter().map(|v| v.name)), Some("subset"));
        assert_eq!(edit_distance("ab", "ba"), 1);
    }
}
