//! Output file names as Harmony's services name them (harmony-service-lib-py `generate_output_filename`,
//! data-formats.md §1.13 and §3.5): `{basename}(_{single var})?(_regridded)?(_subsetted)?(_reformatted)?{ext}`.
//! Pure string functions.

/// Which operations a service performed, for the name's suffixes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Suffixes {
    /// The data was regridded or reprojected.
    pub regridded: bool,
    /// Anything was subset (bbox, shape, time or variables).
    pub subsetted: bool,
    /// The format changed.
    pub reformatted: bool,
}

/// The output name for `input` (a file name), with `variables` (only one is named in the file name).
///
/// ```
/// use harmonyql_server::transform::naming::{output_name, Suffixes};
/// let name = output_name("ATL03_20200427193622_04930702_006_02.h5", &["/gt1l/heights/h_ph"], ".h5",
///     Suffixes { subsetted: true, ..Suffixes::default() });
/// assert_eq!(name, "ATL03_20200427193622_04930702_006_02_gt1l_heights_h_ph_subsetted.h5");
/// ```
pub fn output_name(input: &str, variables: &[&str], ext: &str, suffixes: Suffixes) -> String {
    let file_name = input.rsplit('/').next().unwrap_or(input);
    let mut base = match file_name.rfind('.') {
        Some(dot) if dot > 0 => file_name[..dot].to_string(),
        _ => file_name.to_string(),
    };
    let mut wanted = Vec::new();
    if let [variable] = variables {
        wanted.push(format!("_{}", variable.replace('/', "_")));
    }
    for (on, suffix) in
        [(suffixes.regridded, "_regridded"), (suffixes.subsetted, "_subsetted"), (suffixes.reformatted, "_reformatted")]
    {
        if on {
            wanted.push(suffix.to_string());
        }
    }
    for suffix in wanted {
        // A suffix already at the end of the name is not repeated.
        if !base.ends_with(&squeeze(&suffix)) {
            base.push_str(&suffix);
        }
    }
    format!("{}{ext}", squeeze(&base).replace("_.", "."))
}

fn squeeze(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c == '_' && out.ends_with('_') {
            continue;
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, variables: &[&str], ext: &str, s: (bool, bool, bool), expected: &str) {
        let suffixes = Suffixes { regridded: s.0, subsetted: s.1, reformatted: s.2 };
        assert_eq!(output_name(input, variables, ext, suffixes), expected);
    }

    #[test]
    fn names_follow_harmony() {
        check(
            "ATL03_20200427193622_04930702_006_02.h5",
            &[],
            ".h5",
            (false, true, false),
            "ATL03_20200427193622_04930702_006_02_subsetted.h5",
        );
        check(
            "ATL03_20200427193622_04930702_006_02.h5",
            &["/gt1l/heights/h_ph"],
            ".h5",
            (false, true, false),
            "ATL03_20200427193622_04930702_006_02_gt1l_heights_h_ph_subsetted.h5",
        );
        check("ATL03_x.h5", &["a", "b"], ".h5", (false, true, false), "ATL03_x_subsetted.h5");
        check(
            "SMAP_L2_SM_P_47226_A_20231204T154857_R19240_001_subsetted_regridded.nc",
            &["Soil_Moisture_Retrieval_Data/soil_moisture"],
            ".tif",
            (false, false, true),
            "SMAP_L2_SM_P_47226_A_20231204T154857_R19240_001_subsetted_regridded_Soil_Moisture_Retrieval_Data_soil_moisture_reformatted.tif",
        );
        check("x_subsetted.h5", &[], ".h5", (false, true, false), "x_subsetted.h5");
    }
}
