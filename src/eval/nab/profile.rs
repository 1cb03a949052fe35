//! Cost profiles: the weights NAB puts on a true positive, a false positive and a missed window.
//!
//! NAB's `config/profiles.json` has the shape
//! `{"<name>": {"CostMatrix": {"tpWeight": .., "fpWeight": .., "fnWeight": .., "tnWeight": ..}}}`.
//! `tnWeight` is accepted and ignored: NAB's scoring never reads it (true negatives earn
//! nothing). The built-in [`default_profiles`] equal NAB's file:
//!
//! | profile | A_TP | A_FP | A_FN |
//! |---|---|---|---|
//! | `standard` | 1.0 | 0.11 | 1.0 |
//! | `reward_low_FP_rate` | 1.0 | 0.22 | 1.0 |
//! | `reward_low_FN_rate` | 1.0 | 0.11 | 2.0 |

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// One profile's weights.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostProfile {
    /// The profile's name, as NAB spells it (`standard`, `reward_low_FP_rate`, ...).
    pub name: String,
    /// `A_TP`: what the earliest detection in a window earns. Must be > 0.
    pub tp_weight: f64,
    /// `A_FP`: what a false positive far from any window costs. Must be >= 0.
    pub fp_weight: f64,
    /// `A_FN`: what a window without a detection costs. Must be >= 0.
    pub fn_weight: f64,
}

impl CostProfile {
    /// NAB's `standard` profile: (1.0, 0.11, 1.0).
    pub fn standard() -> Self {
        Self::named("standard", 1.0, 0.11, 1.0)
    }

    /// NAB's `reward_low_FP_rate` profile: (1.0, 0.22, 1.0).
    pub fn reward_low_fp_rate() -> Self {
        Self::named("reward_low_FP_rate", 1.0, 0.22, 1.0)
    }

    /// NAB's `reward_low_FN_rate` profile: (1.0, 0.11, 2.0).
    pub fn reward_low_fn_rate() -> Self {
        Self::named("reward_low_FN_rate", 1.0, 0.11, 2.0)
    }

    fn named(name: &str, tp_weight: f64, fp_weight: f64, fn_weight: f64) -> Self {
        CostProfile {
            name: name.to_string(),
            tp_weight,
            fp_weight,
            fn_weight,
        }
    }
}

/// NAB's three profiles in its usual order: standard, low FP rate, low FN rate.
pub fn default_profiles() -> Vec<CostProfile> {
    vec![
        CostProfile::standard(),
        CostProfile::reward_low_fp_rate(),
        CostProfile::reward_low_fn_rate(),
    ]
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileEntry {
    #[serde(rename = "CostMatrix")]
    cost_matrix: CostMatrix,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CostMatrix {
    #[serde(rename = "tpWeight")]
    tp_weight: f64,
    #[serde(rename = "fpWeight")]
    fp_weight: f64,
    #[serde(rename = "fnWeight")]
    fn_weight: f64,
    // Read so that NAB's file parses with unknown fields denied; NAB's scoring never uses it.
    #[serde(rename = "tnWeight")]
    #[allow(dead_code)]
    tn_weight: Option<f64>,
}

/// Reads profiles from a NAB `profiles.json`. NAB's three profiles come first in their usual
/// order (when present), any others after them by name.
///
/// # Errors
///
/// [`Error::Io`] when the file cannot be read; [`Error::Config`] naming the file, profile and
/// value when the JSON has another shape, is empty, or a weight is out of range (`tpWeight`
/// must be > 0, `fpWeight` and `fnWeight` >= 0, all finite).
pub fn read_profiles(path: &Path) -> Result<Vec<CostProfile>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let location = path.display();
    let entries: BTreeMap<String, ProfileEntry> =
        serde_json::from_str(&text).map_err(|e| Error::Config {
            problems: vec![format!(
                "{location}: expected {{\"profile\": {{\"CostMatrix\": {{\"tpWeight\": .., \
                 \"fpWeight\": .., \"fnWeight\": ..}}}}}}: {e}"
            )],
        })?;

    let mut problems = Vec::new();
    if entries.is_empty() {
        problems.push(format!("{location}: no profiles"));
    }
    let mut profiles = Vec::new();
    for (name, entry) in entries {
        let m = entry.cost_matrix;
        let checks = [
            ("tpWeight", m.tp_weight, m.tp_weight > 0.0),
            ("fpWeight", m.fp_weight, m.fp_weight >= 0.0),
            ("fnWeight", m.fn_weight, m.fn_weight >= 0.0),
        ];
        for (key, value, ok) in checks {
            if !ok || !value.is_finite() {
                let rule = if key == "tpWeight" { "> 0" } else { ">= 0" };
                problems.push(format!(
                    "{location}: {name}.CostMatrix.{key} is {value}, must be finite and {rule}"
                ));
            }
        }
        profiles.push(CostProfile {
            name,
            tp_weight: m.tp_weight,
            fp_weight: m.fp_weight,
            fn_weight: m.fn_weight,
        });
    }
    if !problems.is_empty() {
        return Err(Error::Config { problems });
    }

    let rank = |p: &CostProfile| {
        default_profiles()
            .iter()
            .position(|d| d.name == p.name)
            .unwrap_or(usize::MAX)
    };
    profiles.sort_by(|a, b| rank(a).cmp(&rank(b)).then_with(|| a.name.cmp(&b.name)));
    Ok(profiles)
}
