//! The local Harmony's collections: CMR-like metadata, the services that transform them, capabilities
//! documents, and granule search over the sample granules and the user's own (`hq serve --granules DIR`).
//!
//! Pure: no HTTP types, no async, no file I/O (granule metadata comes from `sample::granules` and from
//! `granule_dir::scan`, which reads the user's files once at start).

use chrono::{DateTime, Utc};

use crate::sample::{self, SampleGranule};
use crate::transform::Polygon;
use harmonyql_lang::api::capabilities::{CapabilitiesV2, ServiceCapabilities, ServiceV2, Subsetting, VariableV2};

/// CMR search root used in `href`s of capabilities documents, as production Harmony writes them.
const CMR: &str = "https://cmr.earthdata.nasa.gov/search/concepts";

/// Concept ID of the collection made of the real ATL03 fixture.
pub const FIXTURE_COLLECTION_ID: &str = "C1000000001-HQ_LOCAL";

/// A Harmony service chain configured for collections.
#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    /// Chain name, e.g. `sds/trajectory-subsetter`.
    pub name: &'static str,
    /// UMM-S concept ID.
    pub umm_s: &'static str,
    /// Its capabilities block.
    pub capabilities: ServiceCapabilities,
}

/// A collection the local Harmony serves.
#[derive(Debug, Clone, PartialEq)]
pub struct Collection {
    /// Short name, e.g. `ATL03`.
    pub short_name: &'static str,
    /// Version ID, e.g. `006`.
    pub version: &'static str,
    /// Title as in CMR.
    pub title: &'static str,
    /// Concept IDs that resolve to it; the first is canonical.
    pub concept_ids: &'static [&'static str],
    /// Variables (full paths) with their UMM-Var concept IDs.
    pub variables: Vec<(String, String)>,
    /// The service that processes it.
    pub service: Service,
}

impl Collection {
    /// The canonical concept ID.
    pub fn concept_id(&self) -> &'static str {
        self.concept_ids[0]
    }

    /// The version 2 capabilities document (`GET /capabilities?collectionId=…`).
    pub fn capabilities(&self, concept_id: &str) -> CapabilitiesV2 {
        let caps = &self.service.capabilities;
        let subsetting = caps.subsetting.clone().unwrap_or_default();
        CapabilitiesV2 {
            concept_id: concept_id.to_string(),
            short_name: self.short_name.to_string(),
            variable_subset: subsetting.variable == Some(true) && !self.variables.is_empty(),
            bbox_subset: subsetting.bbox == Some(true),
            shape_subset: subsetting.shape == Some(true),
            temporal_subset: subsetting.temporal == Some(true),
            concatenate: caps.concatenation == Some(true),
            reproject: caps.reprojection == Some(true),
            output_formats: caps.output_formats.clone(),
            services: vec![ServiceV2 {
                name: self.service.name.to_string(),
                href: format!("{CMR}/{}", self.service.umm_s),
                capabilities: caps.clone(),
            }],
            variables: self
                .variables
                .iter()
                .map(|(name, id)| VariableV2 { name: name.clone(), href: format!("{CMR}/{id}") })
                .collect(),
            capabilities_version: "2".to_string(),
        }
    }

    /// True when `name` is one of the collection's variables (leading `/` optional).
    pub fn has_variable(&self, name: &str) -> bool {
        let wanted = name.trim_start_matches('/');
        self.variables.iter().any(|(variable, _)| variable.trim_start_matches('/') == wanted)
    }
}

/// What a job asks of the granule search (`granuleId`, `granuleName`, spatial and temporal filters, `maxResults`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GranuleQuery {
    /// `[w, s, e, n]`; w > e crosses the antimeridian.
    pub bbox: Option<[f64; 4]>,
    /// Polygons; a granule matches when it intersects any (by bounding boxes).
    pub shape: Vec<Polygon>,
    /// Start of the wanted time range.
    pub start: Option<DateTime<Utc>>,
    /// End of the wanted time range.
    pub end: Option<DateTime<Utc>>,
    /// Granule concept IDs; empty means all.
    pub granule_ids: Vec<String>,
    /// Granule names with `*`/`?` wildcards; empty means all.
    pub granule_names: Vec<String>,
}

/// All collections of the local Harmony.
#[derive(Debug, Clone)]
pub struct Catalog {
    collections: Vec<Collection>,
    /// The user's own granules, each in the collection named by its short name.
    own_granules: Vec<SampleGranule>,
}

impl Default for Catalog {
    /// The sample catalog: ATL03, ATL03_GT1L (the real fixture), SPL2SMP, SPL3SMP, SPL4CMDL.
    fn default() -> Self {
        Catalog { collections: collections(), own_granules: Vec::new() }
    }
}

impl Catalog {
    /// The sample catalog plus the user's own granules (their `short_name` names their collection).
    pub fn with_own_granules(own_granules: Vec<SampleGranule>) -> Self {
        Catalog { own_granules, ..Catalog::default() }
    }

    /// All collections.
    pub fn collections(&self) -> &[Collection] {
        &self.collections
    }

    /// Finds a collection by concept ID or short name (case-sensitive, as CMR).
    pub fn resolve(&self, id: &str) -> Option<&Collection> {
        self.collections.iter().find(|c| c.short_name == id || c.concept_ids.contains(&id))
    }

    /// All granules of `collection` (samples and the user's own), in time order.
    pub fn granules(&self, collection: &Collection) -> Vec<SampleGranule> {
        let mut granules = sample::granules(collection.short_name);
        granules.extend(self.own_granules.iter().filter(|g| g.short_name == collection.short_name).cloned());
        granules.sort_by(|a, b| a.start.cmp(&b.start).then_with(|| a.name.cmp(&b.name)));
        granules
    }

    /// Every granule of every collection (samples and the user's own).
    pub fn all_granules(&self) -> impl Iterator<Item = SampleGranule> + '_ {
        self.collections.iter().flat_map(|collection| self.granules(collection))
    }

    /// The granule with this concept ID, if the catalog has one.
    pub fn granule(&self, concept_id: &str) -> Option<SampleGranule> {
        self.all_granules().find(|granule| granule.concept_id == concept_id)
    }

    /// The granules of `collection` that match `query`, as CMR would return them.
    pub fn search(&self, collection: &Collection, query: &GranuleQuery) -> Vec<SampleGranule> {
        self.granules(collection).into_iter().filter(|granule| matches(granule, query)).collect()
    }
}

fn matches(granule: &SampleGranule, query: &GranuleQuery) -> bool {
    if !query.granule_ids.is_empty() && !query.granule_ids.iter().any(|id| id == &granule.concept_id) {
        return false;
    }
    if !query.granule_names.is_empty() && !query.granule_names.iter().any(|p| wildcard_match(p, &granule.name)) {
        return false;
    }
    if query.start.is_some_and(|start| granule.end < start) || query.end.is_some_and(|end| granule.start > end) {
        return false;
    }
    if let Some(bbox) = query.bbox
        && !touches(granule, bbox)
    {
        return false;
    }
    if !query.shape.is_empty() && !query.shape.iter().any(|polygon| touches(granule, polygon_bbox(polygon))) {
        return false;
    }
    true
}

/// True when the granule's footprint (or, without one, its bbox) meets `bbox`.
fn touches(granule: &SampleGranule, bbox: [f64; 4]) -> bool {
    if granule.footprint.is_empty() {
        return boxes_intersect(granule.bbox, bbox);
    }
    granule.footprint.iter().any(|&[lon, lat]| point_in_box(lon, lat, bbox))
        || granule.footprint.windows(2).any(|pair| boxes_intersect(segment_box(pair[0], pair[1]), bbox))
}

fn segment_box(a: [f64; 2], b: [f64; 2]) -> [f64; 4] {
    [a[0].min(b[0]), a[1].min(b[1]), a[0].max(b[0]), a[1].max(b[1])]
}

fn point_in_box(lon: f64, lat: f64, [w, s, e, n]: [f64; 4]) -> bool {
    let in_lon = if w <= e { lon >= w && lon <= e } else { lon >= w || lon <= e };
    in_lon && lat >= s && lat <= n
}

/// Box intersection where either box may cross the antimeridian (w > e).
pub fn boxes_intersect(a: [f64; 4], b: [f64; 4]) -> bool {
    if a[1] > b[3] || b[1] > a[3] {
        return false;
    }
    let spans = |[w, _, e, _]: [f64; 4]| -> Vec<(f64, f64)> {
        if w <= e { vec![(w, e)] } else { vec![(w, 180.0), (-180.0, e)] }
    };
    spans(a).iter().any(|&(aw, ae)| spans(b).iter().any(|&(bw, be)| aw <= be && bw <= ae))
}

/// The bounding box of a polygon's outer ring.
pub fn polygon_bbox(polygon: &Polygon) -> [f64; 4] {
    let mut bbox = [f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY];
    for &[lon, lat] in polygon.first().map(Vec::as_slice).unwrap_or_default() {
        bbox = [bbox[0].min(lon), bbox[1].min(lat), bbox[2].max(lon), bbox[3].max(lat)];
    }
    bbox
}

/// CMR's `readable_granule_name` matching: `*` any run, `?` one character, otherwise exact.
pub fn wildcard_match(pattern: &str, name: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let name: Vec<char> = name.chars().collect();
    // Iterative matcher with single backtrack point: linear in practice, never recursive on hostile input.
    let (mut p, mut n, mut star, mut mark) = (0, 0, None, 0);
    while n < name.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == name[n]) {
            p += 1;
            n += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some(p);
            mark = n;
            p += 1;
        } else if let Some(star_at) = star {
            p = star_at + 1;
            mark += 1;
            n = mark;
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

fn subsetting(bbox: bool, variable: bool, shape: bool, temporal: bool, dimension: bool) -> Option<Subsetting> {
    Some(Subsetting {
        bbox: Some(bbox),
        variable: Some(variable),
        multiple_variable: Some(variable),
        shape: Some(shape),
        temporal: Some(temporal),
        dimension: Some(dimension),
    })
}

fn trajectory_subsetter() -> Service {
    Service {
        name: "sds/trajectory-subsetter",
        umm_s: "S2836723123-XYZ_PROV",
        capabilities: ServiceCapabilities {
            subsetting: subsetting(true, true, true, true, false),
            output_formats: vec!["application/x-hdf5".to_string()],
            reprojection: Some(false),
            concatenation: Some(false),
            concatenate_by_default: Some(false),
        },
    }
}

fn smap_formats() -> Vec<String> {
    ["application/x-hdf5", "application/netcdf", "application/x-netcdf4", "image/tiff"].map(String::from).to_vec()
}

fn atl03_variables(prefix: &str) -> Vec<(String, String)> {
    let fields = ["h_ph", "lat_ph", "lon_ph", "delta_time", "signal_conf_ph", "quality_ph"];
    let mut variables = Vec::new();
    let mut n = 0;
    for beam in ["gt1l", "gt1r", "gt2l", "gt2r", "gt3l", "gt3r"] {
        for field in fields {
            n += 1;
            variables.push((format!("/{beam}/heights/{field}"), format!("V{prefix}{n:03}-NSIDC_CPRD")));
        }
    }
    variables
}

fn named_variables(prefix: &str, names: &[String]) -> Vec<(String, String)> {
    names.iter().enumerate().map(|(i, name)| (name.clone(), format!("V{prefix}{:03}-NSIDC_CPRD", i + 1))).collect()
}

fn collections() -> Vec<Collection> {
    let spl2 = [
        "soil_moisture",
        "soil_moisture_error",
        "retrieval_qual_flag",
        "surface_flag",
        "latitude",
        "longitude",
        "EASE_row_index",
        "EASE_column_index",
        "tb_h_corrected",
        "tb_v_corrected",
        "vegetation_water_content",
        "landcover_class",
        "tb_time_seconds",
    ]
    .map(|v| format!("Soil_Moisture_Retrieval_Data/{v}"));
    let mut spl3 = Vec::new();
    for (group, suffix) in [("Soil_Moisture_Retrieval_Data_AM", ""), ("Soil_Moisture_Retrieval_Data_PM", "_pm")] {
        for v in [
            "soil_moisture",
            "soil_moisture_error",
            "retrieval_qual_flag",
            "surface_flag",
            "latitude",
            "longitude",
            "EASE_row_index",
            "EASE_column_index",
            "tb_time_seconds",
            "landcover_class",
        ] {
            spl3.push(format!("{group}/{v}{suffix}"));
        }
    }
    let spl4 = [
        "EC/tmult_mean",
        "GEO/latitude",
        "GEO/longitude",
        "GPP/gpp_mean",
        "NEE/nee_mean",
        "QA/nee_rmse_mean",
        "RH/rh_mean",
        "SOC/soc_mean",
    ]
    .map(String::from);
    let hoss = Service {
        name: "sds/HOSS-regridder-reformatter",
        umm_s: "S3671941188-XYZ_PROV",
        capabilities: ServiceCapabilities {
            subsetting: subsetting(true, true, true, true, true),
            output_formats: smap_formats(),
            reprojection: Some(true),
            concatenation: Some(false),
            concatenate_by_default: Some(false),
        },
    };
    vec![
        Collection {
            short_name: "ATL03",
            version: "006",
            title: "ATLAS/ICESat-2 L2A Global Geolocated Photon Data V006",
            concept_ids: &["C2596864127-NSIDC_CPRD", "C1256407609-NSIDC_CUAT"],
            variables: atl03_variables("2600"),
            service: trajectory_subsetter(),
        },
        Collection {
            short_name: "SPL2SMP",
            version: "009",
            title: "SMAP L2 Radiometer Half-Orbit 36 km EASE-Grid Soil Moisture V009",
            concept_ids: &["C2938663609-NSIDC_CPRD", "C1263071063-NSIDC_CUAT"],
            variables: named_variables("2938", &spl2),
            service: Service {
                name: "sds/smap-l2-subsetter-net2cog",
                umm_s: "S3671933145-XYZ_PROV",
                capabilities: ServiceCapabilities {
                    subsetting: subsetting(true, true, true, false, false),
                    output_formats: smap_formats(),
                    reprojection: Some(true),
                    concatenation: Some(false),
                    concatenate_by_default: Some(false),
                },
            },
        },
        Collection {
            short_name: "SPL3SMP",
            version: "009",
            title: "SMAP L3 Radiometer Global Daily 36 km EASE-Grid Soil Moisture V009",
            concept_ids: &["C2938664585-NSIDC_CPRD", "C1263071067-NSIDC_CUAT"],
            variables: named_variables("2939", &spl3),
            service: hoss.clone(),
        },
        Collection {
            short_name: "SPL4CMDL",
            version: "008",
            title: "SMAP L4 Global Daily 9 km EASE-Grid Carbon Net Ecosystem Exchange V008",
            concept_ids: &["C3480440454-NSIDC_CPRD", "C1273193292-NSIDC_CUAT"],
            variables: named_variables("3480", &spl4),
            service: hoss,
        },
        Collection {
            short_name: "ATL03_GT1L",
            version: "006",
            title: "ATL03 V006 gt1l cut near 87.3N (real data from NASA's Trajectory Subsetter tests)",
            concept_ids: &[FIXTURE_COLLECTION_ID],
            variables: atl03_variables("1000").into_iter().filter(|(name, _)| name.starts_with("/gt1l/")).collect(),
            service: trajectory_subsetter(),
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_concept_id_and_short_name_resolves_to_its_collection() {
        let catalog = Catalog::default();
        let cases = [
            ("ATL03", "ATL03"),
            ("C2596864127-NSIDC_CPRD", "ATL03"),
            ("C1256407609-NSIDC_CUAT", "ATL03"),
            ("C2938663609-NSIDC_CPRD", "SPL2SMP"),
            ("C2938664585-NSIDC_CPRD", "SPL3SMP"),
            ("C3480440454-NSIDC_CPRD", "SPL4CMDL"),
            ("C1000000001-HQ_LOCAL", "ATL03_GT1L"),
        ];
        for (id, short) in cases {
            assert_eq!(catalog.resolve(id).map(|c| c.short_name), Some(short), "{id}");
        }
        assert!(catalog.resolve("atl03").is_none());
        assert!(catalog.resolve("C0-NOPE").is_none());
    }

    #[test]
    fn capabilities_match_the_production_services() {
        let catalog = Catalog::default();
        let atl03 = catalog.resolve("ATL03").unwrap().capabilities("C2596864127-NSIDC_CPRD");
        assert!(atl03.bbox_subset && atl03.shape_subset && atl03.temporal_subset && !atl03.reproject);
        assert_eq!(atl03.output_formats, ["application/x-hdf5"]);
        assert_eq!(atl03.services[0].href, "https://cmr.earthdata.nasa.gov/search/concepts/S2836723123-XYZ_PROV");
        for short in ["SPL2SMP", "SPL3SMP", "SPL4CMDL"] {
            let caps = catalog.resolve(short).unwrap().capabilities("x");
            assert!(caps.variable_subset && caps.bbox_subset && caps.reproject, "{short}");
            assert!(caps.output_formats.iter().any(|f| f == "image/tiff"), "{short}");
        }
    }

    #[test]
    fn wildcards_follow_cmr_rules() {
        let cases = [
            ("ATL03_*", "ATL03_2020.h5", true),
            ("ATL03_?020*", "ATL03_2020.h5", true),
            ("*.h5", "x.h5", true),
            ("*.h5", "x.h5x", false),
            ("abc", "abcd", false),
            ("a*b*c", "aXXbYYc", true),
            ("", "", true),
            ("?", "", false),
        ];
        for (pattern, name, expected) in cases {
            assert_eq!(wildcard_match(pattern, name), expected, "{pattern} ~ {name}");
        }
    }

    #[test]
    fn boxes_intersect_across_the_antimeridian() {
        let cases = [
            ([-10.0, -10.0, 10.0, 10.0], [5.0, 5.0, 20.0, 20.0], true),
            ([-10.0, -10.0, 10.0, 10.0], [11.0, 5.0, 20.0, 20.0], false),
            ([170.0, -10.0, -170.0, 10.0], [-175.0, 0.0, -172.0, 1.0], true),
            ([170.0, -10.0, -170.0, 10.0], [0.0, 0.0, 1.0, 1.0], false),
            ([-179.0, 87.29, 179.0, 87.3], [-180.0, 87.0, 180.0, 90.0], true),
        ];
        for (a, b, expected) in cases {
            assert_eq!(boxes_intersect(a, b), expected, "{a:?} {b:?}");
            assert_eq!(boxes_intersect(b, a), expected, "{b:?} {a:?}");
        }
    }

    #[test]
    fn granule_search_filters_by_box_time_name_and_id() {
        let catalog = Catalog::default();
        let collection = catalog.resolve(FIXTURE_COLLECTION_ID).unwrap();
        let all = catalog.granules(collection);
        assert_eq!(all.len(), 1);
        let granule = &all[0];
        let [w, s, e, n] = granule.bbox;
        let day = chrono::Duration::days(1);
        let cases = [
            (GranuleQuery::default(), 1),
            (GranuleQuery { bbox: Some([w - 1.0, s - 0.1, e, n + 0.1]), ..Default::default() }, 1),
            (GranuleQuery { bbox: Some([w - 10.0, s - 1.0, w - 5.0, s - 0.5]), ..Default::default() }, 0),
            (GranuleQuery { start: Some(granule.start - day), end: Some(granule.end + day), ..Default::default() }, 1),
            (GranuleQuery { start: Some(granule.end + day), ..Default::default() }, 0),
            (GranuleQuery { granule_names: vec!["ATL03_*".into()], ..Default::default() }, 1),
            (GranuleQuery { granule_names: vec!["SMAP_*".into()], ..Default::default() }, 0),
            (GranuleQuery { granule_ids: vec![granule.concept_id.clone()], ..Default::default() }, 1),
            (GranuleQuery { granule_ids: vec!["G1-NOPE".into()], ..Default::default() }, 0),
        ];
        for (query, n) in cases {
            assert_eq!(catalog.search(collection, &query).len(), n, "{query:?}");
        }
    }

    #[test]
    fn every_collection_has_sample_granules() {
        let catalog = Catalog::default();
        for collection in catalog.collections() {
            assert!(!catalog.granules(collection).is_empty(), "{}", collection.short_name);
        }
    }
}
