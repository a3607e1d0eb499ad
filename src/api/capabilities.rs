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
