//! Harmony's capabilities documents (`GET /capabilities`), versions 1 and 2, as serde types.
//!
//! Pure: no I/O. Field names and order are Harmony's (`HS:app/frontends/capabilities.ts`).

use serde::{Deserialize, Serialize};

/// What one service can do: the raw `capabilities` block of Harmony's services.yml.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServiceCapabilities {
    /// Subsetting switches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subsetting: Option<Subsetting>,
    /// Output MIME types.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub output_formats: Vec<String>,
    /// Whether the service reprojects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reprojection: Option<bool>,
    /// Whether the service concatenates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concatenation: Option<bool>,
    /// Whether concatenation is on unless asked otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concatenate_by_default: Option<bool>,
}

/// The `subsetting` switches of a service.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subsetting {
    /// Bounding-box subsetting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bbox: Option<bool>,
    /// Variable subsetting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variable: Option<bool>,
    /// Several variables in one request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multiple_variable: Option<bool>,
    /// Shape-file subsetting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shape: Option<bool>,
    /// Temporal subsetting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temporal: Option<bool>,
    /// Other dimensions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dimension: Option<bool>,
}

/// A service in a version 2 document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceV2 {
    /// Service chain name, e.g. `sds/trajectory-subsetter`.
    pub name: String,
    /// CMR URL of its UMM-S record.
    pub href: String,
    /// What it can do.
    pub capabilities: ServiceCapabilities,
}

/// A variable in a version 2 document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VariableV2 {
    /// Full variable path.
    pub name: String,
    /// CMR URL of its UMM-Var record.
    pub href: String,
}

/// The version 2 (default) capabilities document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapabilitiesV2 {
    /// Collection concept ID.
    #[serde(rename = "conceptId")]
    pub concept_id: String,
    /// Collection short name.
    #[serde(rename = "shortName")]
    pub short_name: String,
    /// Any service subsets variables (and the collection has variables).
    #[serde(rename = "variableSubset")]
    pub variable_subset: bool,
    /// Any service subsets by bounding box.
    #[serde(rename = "bboxSubset")]
    pub bbox_subset: bool,
    /// Any service subsets by shape.
    #[serde(rename = "shapeSubset")]
    pub shape_subset: bool,
    /// Any service subsets by time.
    #[serde(rename = "temporalSubset")]
    pub temporal_subset: bool,
    /// Any service concatenates.
    pub concatenate: bool,
    /// Any service reprojects.
    pub reproject: bool,
    /// Union of the services' output formats.
    #[serde(rename = "outputFormats")]
    pub output_formats: Vec<String>,
    /// The services configured for the collection.
    pub services: Vec<ServiceV2>,
    /// The collection's variables.
    pub variables: Vec<VariableV2>,
    /// Always `"2"`.
    #[serde(rename = "capabilitiesVersion")]
    pub capabilities_version: String,
}

/// A service in a version 1 document (no `href`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceV1 {
    /// Service chain name.
    pub name: String,
    /// What it can do.
    pub capabilities: ServiceCapabilities,
}

/// The version 1 capabilities document: variables are plain names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapabilitiesV1 {
    /// Collection concept ID.
    #[serde(rename = "conceptId")]
    pub concept_id: String,
    /// Collection short name.
    #[serde(rename = "shortName")]
    pub short_name: String,
    /// Any service subsets variables.
    #[serde(rename = "variableSubset")]
    pub variable_subset: bool,
    /// Any service subsets by bounding box.
    #[serde(rename = "bboxSubset")]
    pub bbox_subset: bool,
    /// Any service subsets by shape.
    #[serde(rename = "shapeSubset")]
    pub shape_subset: bool,
    /// Any service subsets by time.
    #[serde(rename = "temporalSubset")]
    pub temporal_subset: bool,
    /// Any service concatenates.
    pub concatenate: bool,
    /// Any service reprojects.
    pub reproject: bool,
    /// Union of the services' output formats.
    #[serde(rename = "outputFormats")]
    pub output_formats: Vec<String>,
    /// The services.
    pub services: Vec<ServiceV1>,
    /// Variable names.
    pub variables: Vec<String>,
    /// Always `"1"`.
    #[serde(rename = "capabilitiesVersion")]
    pub capabilities_version: String,
}

impl From<CapabilitiesV2> for CapabilitiesV1 {
    fn from(v2: CapabilitiesV2) -> Self {
        CapabilitiesV1 {
            concept_id: v2.concept_id,
            short_name: v2.short_name,
            variable_subset: v2.variable_subset,
            bbox_subset: v2.bbox_subset,
            shape_subset: v2.shape_subset,
            temporal_subset: v2.temporal_subset,
            concatenate: v2.concatenate,
            reproject: v2.reproject,
            output_formats: v2.output_formats,
            services: v2
                .services
                .into_iter()
                .map(|service| ServiceV1 { name: service.name, capabilities: service.capabilities })
                .collect(),
            variables: v2.variables.into_iter().map(|variable| variable.name).collect(),
            capabilities_version: "1".to_string(),
        }
    }
}

/// Subsetting switches of a version 3 summary.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubsettingV3 {
    /// Bounding box.
    pub bbox: bool,
    /// Other dimensions.
    pub dimension: bool,
    /// Shape files.
    pub shape: bool,
    /// Time.
    pub temporal: bool,
    /// Variables.
    pub variable: bool,
}

/// A projection in a version 3 summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Projection {
    /// e.g. `EPSG:4326`.
    pub crs: String,
    /// e.g. `WGS 84`.
    pub name: String,
}

/// Reprojection in a version 3 summary.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReprojectionV3 {
    /// Whether any service reprojects.
    pub supported: bool,
    /// Target projections.
    #[serde(rename = "supportedProjections")]
    pub supported_projections: Vec<Projection>,
    /// Interpolation methods.
    #[serde(rename = "interpolationMethods")]
    pub interpolation_methods: Vec<String>,
}

/// Averaging in a version 3 summary.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AveragingV3 {
    /// Time averaging.
    pub time: bool,
    /// Area averaging.
    pub area: bool,
}

/// An output format in a version 3 summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormatV3 {
    /// UMM-S name, e.g. `GEOTIFF`.
    pub name: String,
    /// MIME type.
    #[serde(rename = "mimeType")]
    pub mime_type: String,
}

/// What a collection (or one of its services) can do, in version 3.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SummaryV3 {
    /// Subsetting.
    pub subsetting: SubsettingV3,
    /// Reprojection.
    pub reprojection: ReprojectionV3,
    /// Averaging.
    pub averaging: AveragingV3,
    /// Concatenation.
    pub concatenation: bool,
    /// Output formats.
    #[serde(rename = "outputFormats")]
    pub output_formats: Vec<FormatV3>,
}

/// A service in a version 3 document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceV3 {
    /// Service chain name.
    pub name: String,
    /// CMR URL of its UMM-S record.
    pub href: String,
    /// What it can do.
    pub capabilities: SummaryV3,
}

/// A variable in a version 3 document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VariableV3 {
    /// Full variable path.
    pub name: String,
    /// Human name.
    #[serde(rename = "longName", default, skip_serializing_if = "Option::is_none")]
    pub long_name: Option<String>,
    /// CMR URL of its UMM-Var record.
    pub href: String,
    /// Units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub units: Option<String>,
    /// GCMD science keywords.
    #[serde(rename = "scienceKeywords", default)]
    pub science_keywords: Vec<serde_json::Value>,
}

/// The version `3-alpha` capabilities document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapabilitiesV3 {
    /// Collection concept ID.
    #[serde(rename = "conceptId")]
    pub concept_id: String,
    /// Collection short name.
    #[serde(rename = "shortName")]
    pub short_name: String,
    /// Union of the services' capabilities.
    pub summary: SummaryV3,
    /// The services.
    pub services: Vec<ServiceV3>,
    /// The variables.
    pub variables: Vec<VariableV3>,
    /// Always `"3-alpha"`.
    #[serde(rename = "capabilitiesVersion")]
    pub capabilities_version: String,
}

/// The UMM-S name Harmony shows for an output MIME type.
pub fn format_name(mime: &str) -> &'static str {
    match mime {
        "application/x-hdf5" | "application/x-hdf" => "HDF5",
        "application/netcdf" | "application/x-netcdf4" => "NETCDF-4",
        "image/tiff" => "GEOTIFF",
        "image/png" => "PNG",
        "application/x-zarr" => "ZARR",
        _ => "OTHER",
    }
}

impl From<&CapabilitiesV2> for CapabilitiesV3 {
    fn from(v2: &CapabilitiesV2) -> Self {
        let summary_of = |caps: &ServiceCapabilities| {
            let sub = caps.subsetting.clone().unwrap_or_default();
            let reproject = caps.reprojection == Some(true);
            SummaryV3 {
                subsetting: SubsettingV3 {
                    bbox: sub.bbox == Some(true),
                    dimension: sub.dimension == Some(true),
                    shape: sub.shape == Some(true),
                    temporal: sub.temporal == Some(true),
                    variable: sub.variable == Some(true),
                },
                reprojection: ReprojectionV3 {
                    supported: reproject,
                    supported_projections: if reproject {
                        vec![Projection { crs: "EPSG:4326".into(), name: "WGS 84".into() }]
                    } else {
                        Vec::new()
                    },
                    interpolation_methods: if reproject { vec!["near".into()] } else { Vec::new() },
                },
                averaging: AveragingV3::default(),
                concatenation: caps.concatenation == Some(true),
                output_formats: caps
                    .output_formats
                    .iter()
                    .map(|m| FormatV3 { name: format_name(m).into(), mime_type: m.clone() })
                    .collect(),
            }
        };
        let services: Vec<ServiceV3> = v2
            .services
            .iter()
            .map(|s| ServiceV3 {
                name: s.name.clone(),
                href: s.href.clone(),
                capabilities: summary_of(&s.capabilities),
            })
            .collect();
        let mut summary = services.first().map(|s| s.capabilities.clone()).unwrap_or_default();
        summary.subsetting.variable = v2.variable_subset;
        CapabilitiesV3 {
            concept_id: v2.concept_id.clone(),
            short_name: v2.short_name.clone(),
            summary,
            services,
            variables: v2
                .variables
                .iter()
                .map(|v| VariableV3 {
                    name: v.name.clone(),
                    long_name: None,
                    href: v.href.clone(),
                    units: None,
                    science_keywords: Vec::new(),
                })
                .collect(),
            capabilities_version: "3-alpha".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn harmony_py_expected_capabilities_round_trips() {
        // HPY:tests/test_client.py `expected_capabilities`, plus the `temporalSubset` the real server sends.
        let json = r#"{"conceptId":"C1940468263-POCLOUD","shortName":"SMAP_RSS_L3_SSS_SMI_8DAY-RUNNINGMEAN_V4","variableSubset":false,"bboxSubset":false,"shapeSubset":false,"temporalSubset":false,"concatenate":true,"reproject":false,"outputFormats":["application/x-zarr"],"services":[{"name":"harmony/netcdf-to-zarr","href":"https://cmr.earthdata.nasa.gov/search/concepts/S2009180097-POCLOUD","capabilities":{"subsetting":{"variable":false},"output_formats":["application/x-zarr"],"concatenation":true,"concatenate_by_default":false}}],"variables":[{"name":"fland","href":"https://cmr.earthdata.nasa.gov/search/concepts/V2093907988-POCLOUD"}],"capabilitiesVersion":"2"}"#;
        let caps: CapabilitiesV2 = serde_json::from_str(json).unwrap();
        assert!(caps.concatenate);
        assert_eq!(serde_json::to_string(&caps).unwrap(), json);
    }

    #[test]
    fn version_3_summarizes_services_with_format_names() {
        let v2 = CapabilitiesV2 {
            concept_id: "C1".into(),
            short_name: "S".into(),
            variable_subset: true,
            bbox_subset: true,
            shape_subset: false,
            temporal_subset: false,
            concatenate: false,
            reproject: true,
            output_formats: vec!["image/tiff".into()],
            services: vec![ServiceV2 {
                name: "a".into(),
                href: "h".into(),
                capabilities: ServiceCapabilities {
                    subsetting: Some(Subsetting { bbox: Some(true), variable: Some(true), ..Default::default() }),
                    output_formats: vec!["image/tiff".into(), "application/x-hdf5".into()],
                    reprojection: Some(true),
                    ..Default::default()
                },
            }],
            variables: vec![VariableV2 { name: "/g/v".into(), href: "h".into() }],
            capabilities_version: "2".into(),
        };
        let json = serde_json::to_value(CapabilitiesV3::from(&v2)).unwrap();
        assert_eq!(json["capabilitiesVersion"], "3-alpha");
        assert_eq!(json["summary"]["subsetting"]["bbox"], true);
        assert_eq!(json["summary"]["reprojection"]["supportedProjections"][0]["crs"], "EPSG:4326");
        assert_eq!(
            json["summary"]["outputFormats"][0],
            serde_json::json!({"name": "GEOTIFF", "mimeType": "image/tiff"})
        );
        assert_eq!(json["services"][0]["capabilities"]["outputFormats"][1]["name"], "HDF5");
        assert_eq!(json["variables"][0], serde_json::json!({"name": "/g/v", "href": "h", "scienceKeywords": []}));
    }

    #[test]
    fn version_1_lists_variable_names_and_drops_service_hrefs() {
        let v2 = CapabilitiesV2 {
            concept_id: "C1".into(),
            short_name: "S".into(),
            variable_subset: true,
            bbox_subset: true,
            shape_subset: false,
            temporal_subset: false,
            concatenate: false,
            reproject: false,
            output_formats: vec!["image/tiff".into()],
            services: vec![ServiceV2 { name: "a".into(), href: "h".into(), capabilities: Default::default() }],
            variables: vec![VariableV2 { name: "/g/v".into(), href: "h".into() }],
            capabilities_version: "2".into(),
        };
        let v1 = CapabilitiesV1::from(v2);
        let json = serde_json::to_value(&v1).unwrap();
        assert_eq!(json["variables"], serde_json::json!(["/g/v"]));
        assert_eq!(json["services"], serde_json::json!([{"name": "a", "capabilities": {}}]));
        assert_eq!(json["capabilitiesVersion"], "1");
    }
}
