//! Reading rule files: YAML text to a [`RuleSet`], collecting every problem on the way.
//!
//! The YAML is parsed into a tree that remembers line numbers (`marked_yaml`), then walked by
//! hand rather than through serde, so that one pass can report every unknown key, bad value and
//! missing key with its line, instead of stopping at the first.

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::path::{Path, PathBuf};

use marked_yaml::types::{MarkedMappingNode, MarkedScalarNode};
use marked_yaml::{parse_yaml_with_options, LoadError, LoaderOptions, Node};

use super::problem::{Problem, Report};
use super::selector::Selector;
use super::spec::{
    AlertSpec, AnomalyRule, Capacity, CapacityRule, ChangeDirection, DegradationRule, Model,
    Origin, RuleKind, RuleSet, Season, SeasonalityMode, Sensitivity, Threshold, TrafficRule,
    BUILT_MODELS, DEFAULT_HEADROOM, DEFAULT_HISTORY_MS, DEFAULT_HORIZON_MS, DEFAULT_INTERVAL_WIDTH,
    DEFAULT_MIN_DEVIATION, DEFAULT_REFIT_EVERY_MS, DEFAULT_WARMUP_MS,
};
use crate::error::{Error, Result};
use crate::series::Labels;
use crate::time::{parse_duration, Millis};

const TOP_KEYS: &[&str] = &["anomaly_detection", "predictive_monitoring"];
const PREDICTIVE_KEYS: &[&str] = &[
    "capacity_planning",
    "performance_degradation",
    "traffic_prediction",
];
const ANOMALY_KEYS: &[&str] = &[
    "name",
    "match",
    "model",
    "interval_width",
    "seasonality_mode",
    "warmup",
    "refit_every",
    "history",
    "min_deviation",
    "for",
    "keep_firing_for",
    "labels",
    "annotations",
];
const CAPACITY_KEYS: &[&str] = &[
    "name",
    "metric",
    "model",
    "forecast_window",
    "alert_threshold",
    "capacity",
    "for",
    "keep_firing_for",
    "labels",
    "annotations",
];
const DEGRADATION_KEYS: &[&str] = &[
    "name",
    "metric",
    "model",
    "sensitivity",
    "alert_on",
    "for",
    "keep_firing_for",
    "labels",
    "annotations",
];
const TRAFFIC_KEYS: &[&str] = &[
    "name",
    "metric",
    "model",
    "seasonality",
    "use_for",
    "horizon",
    "headroom",
    "capacity_per_replica",
    "for",
    "keep_firing_for",
    "labels",
    "annotations",
];

const DURATION_HINT: &str = "expected a Prometheus duration such as 5m or 1h30m";
const LABEL_NAME_HINT: &str = "label names must match [a-zA-Z_][a-zA-Z0-9_]*";

/// Loads one rule file.
///
/// Warnings (such as rules whose model is not available in this version) do not fail the load:
/// they are returned in [`RuleSet::warnings`], and the affected rules have `available: false`.
///
/// # Errors
///
/// [`Error::Io`] when the file cannot be read; [`Error::Config`] with one line per problem
/// (errors and warnings, in line order) when the file has at least one error.
pub fn load(path: impl AsRef<Path>) -> Result<RuleSet> {
    load_all([path])
}

/// Loads several rule files (a directory stands for its `*.yaml` and `*.yml` files) into one
/// rule set. Rule names must be unique across all of them.
///
/// # Errors
///
/// As [`load`], with the problems of all files together.
pub fn load_all<P: AsRef<Path>>(paths: impl IntoIterator<Item = P>) -> Result<RuleSet> {
    let mut batch = Batch::default();
    for path in paths {
        let path = path.as_ref();
        let files = expand(path).map_err(|e| Error::io(path, e))?;
        for file in files {
            let text = std::fs::read_to_string(&file).map_err(|e| Error::io(&file, e))?;
            batch.add(&file, &text);
        }
    }
    batch.finish()
}

/// Parses rule text as if it had been read from `file` (which is only used in messages).
///
/// # Errors
///
/// [`Error::Config`] as for [`load`].
pub fn parse(file: impl AsRef<Path>, text: &str) -> Result<RuleSet> {
    let mut batch = Batch::default();
    batch.add(file.as_ref(), text);
    batch.finish()
}

/// Checks rule files (a directory stands for its `*.yaml` and `*.yml` files) and reports every
/// problem, including files that cannot be read, without failing.
pub fn check<P: AsRef<Path>>(paths: impl IntoIterator<Item = P>) -> Report {
    let mut batch = Batch::default();
    for path in paths {
        let path = path.as_ref();
        let files = match expand(path) {
            Ok(files) => files,
            Err(e) => {
                batch.unreadable(path, &e);
                continue;
            }
        };
        for file in files {
            match std::fs::read_to_string(&file) {
                Ok(text) => batch.add(&file, &text),
                Err(e) => batch.unreadable(&file, &e),
            }
        }
    }

    let (rules, problems) = batch.problems();
    Report {
        problems,
        files: batch.files.len(),
        rules: rules.len(),
    }
}

/// The files of `path`: itself, or the YAML files directly inside it, sorted by name.
fn expand(path: &Path) -> io::Result<Vec<PathBuf>> {
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    for entry in std::fs::read_dir(path)? {
        let file = entry?.path();
        let yaml = file.extension().is_some_and(|e| e == "yaml" || e == "yml");
        if yaml && file.is_file() {
            files.push(file);
        }
    }
    files.sort();
    Ok(files)
}

/// Rules and problems gathered from several files.
#[derive(Default)]
struct Batch {
    files: Vec<PathBuf>,
    rules: RuleSet,
    problems: Vec<Problem>,
}

impl Batch {
    fn add(&mut self, file: &Path, text: &str) {
        self.files.push(file.to_path_buf());
        let options = LoaderOptions::default()
            .error_on_duplicate_keys(true)
            .prevent_coercion(true);
        match parse_yaml_with_options(0, text, options) {
            Ok(root) => {
                let mut walker = Walker {
                    file,
                    problems: &mut self.problems,
                };
                walker.root(&root, &mut self.rules);
            }
            Err(e) => self.problems.push(yaml_problem(file, &e)),
        }
    }

    fn unreadable(&mut self, file: &Path, error: &io::Error) {
        self.files.push(file.to_path_buf());
        self.problems
            .push(Problem::error(file, 0, "", "cannot read the file").detail(error.to_string()));
    }

    /// Adds the cross-rule checks and returns the rules and all problems in file and line order.
    fn problems(&mut self) -> (RuleSet, Vec<Problem>) {
        duplicate_names(&self.rules, &self.files, &mut self.problems);
        let mut problems = std::mem::take(&mut self.problems);
        let files = &self.files;
        // Errors before warnings on the same line; otherwise the order they were found in.
        problems.sort_by_key(|p| (files.iter().position(|f| *f == p.file), p.line, p.severity));
        (std::mem::take(&mut self.rules), problems)
    }

    fn finish(mut self) -> Result<RuleSet> {
        let (mut rules, problems) = self.problems();
        if problems.iter().any(Problem::is_error) {
            return Err(Error::Config {
                problems: problems.iter().map(ToString::to_string).collect(),
            });
        }
        rules.warnings = problems;
        Ok(rules)
    }
}

/// Reports every rule whose name was already used by an earlier rule.
fn duplicate_names(rules: &RuleSet, files: &[PathBuf], problems: &mut Vec<Problem>) {
    let mut ordered: Vec<_> = rules.rules().collect();
    ordered.sort_by_key(|r| {
        (
            files.iter().position(|f| *f == r.origin.file),
            r.origin.line,
        )
    });

    let mut first: HashMap<&str, &Origin> = HashMap::new();
    for rule in ordered {
        let origin = rule.origin;
        match first.get(rule.alert.name.as_str()) {
            None => {
                first.insert(&rule.alert.name, origin);
            }
            Some(earlier) => problems.push(
                Problem::error(
                    &origin.file,
                    origin.line,
                    format!("{}.name", origin.key),
                    "duplicate rule name",
                )
                .value(&rule.alert.name)
                .detail(format!(
                    "already used by {} at {}:{}; rule names must be unique across all rule \
                         files (set `name` to tell them apart)",
                    earlier.key,
                    earlier.file.display(),
                    earlier.line
                )),
            ),
        }
    }
}

/// Turns a YAML loader error into a problem with the line it happened on.
fn yaml_problem(file: &Path, error: &LoadError) -> Problem {
    let unsupported = |marker: &marked_yaml::Marker, detail: &str| {
        Problem::error(file, marker.line(), "", "unsupported YAML").detail(detail)
    };
    match error {
        LoadError::ScanError(marker, scan) => {
            Problem::error(file, marker.line(), "", "YAML syntax error").detail(format!(
                "{} (column {})",
                scan.info(),
                marker.column()
            ))
        }
        LoadError::DuplicateKey(inner) => {
            let line = scalar_line(&inner.key);
            Problem::error(file, line, "", "duplicate key")
                .value(inner.key.as_str())
                .detail(format!(
                    "already given at line {}",
                    scalar_line(&inner.prev_key)
                ))
        }
        LoadError::TopLevelMustBeMapping(marker) | LoadError::TopLevelMustBeSequence(marker) => {
            Problem::error(file, marker.line(), "", "wrong type").detail(
                "the top level must be a mapping with the keys anomaly_detection and/or \
                 predictive_monitoring",
            )
        }
        LoadError::UnexpectedAnchor(marker) => unsupported(
            marker,
            "anchors and aliases (&name, *name) are not supported",
        ),
        LoadError::MappingKeyMustBeScalar(marker) => {
            unsupported(marker, "mapping keys must be plain strings")
        }
        LoadError::UnexpectedTag(marker) => {
            unsupported(marker, "tags such as !!str are not supported")
        }
    }
}

fn node_line(node: &Node) -> usize {
    node.span().start().map_or(0, |m| m.line())
}

fn scalar_line(node: &MarkedScalarNode) -> usize {
    node.span().start().map_or(0, |m| m.line())
}

/// True for an empty plain value: `key:`, `key: ~` or `key: null`.
fn is_null(node: &Node) -> bool {
    match node {
        Node::Scalar(s) => {
            s.may_coerce() && matches!(s.as_str(), "" | "~" | "null" | "Null" | "NULL")
        }
        _ => false,
    }
}

/// What a node is, for "expected X, found Y" messages.
fn describe(node: &Node) -> &'static str {
    match node {
        _ if is_null(node) => "an empty value",
        Node::Scalar(_) => "a single value",
        Node::Mapping(_) => "a mapping",
        Node::Sequence(_) => "a list",
    }
}

/// A mapping together with its key path and line.
struct Map<'n> {
    node: &'n MarkedMappingNode,
    key: String,
    line: usize,
}

impl<'n> Map<'n> {
    fn path(&self, key: &str) -> String {
        if self.key.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.key)
        }
    }

    /// The line of `key` itself. Used for empty values, whose position the YAML parser puts at
    /// the next token, often on a later line.
    fn key_line(&self, key: &str) -> usize {
        let found = self.node.iter().find(|(k, _)| k.as_str() == key);
        found.map_or(self.line, |(k, _)| scalar_line(k))
    }

    /// The value of `key`, or `None` when it is absent or empty.
    fn get(&self, key: &str) -> Option<&'n Node> {
        self.node.get_node(key).filter(|n| !is_null(n))
    }
}

/// Walks one file's YAML tree, building rules and recording problems.
struct Walker<'a> {
    file: &'a Path,
    problems: &'a mut Vec<Problem>,
}

impl Walker<'_> {
    fn error(&mut self, line: usize, key: &str, reason: &str) -> &mut Problem {
        self.problems
            .push(Problem::error(self.file, line, key, reason));
        let last = self.problems.len() - 1;
        &mut self.problems[last]
    }

    fn wrong_type(&mut self, node: &Node, key: &str, expected: &str) {
        let detail = format!("expected {expected}, found {}", describe(node));
        self.error(node_line(node), key, "wrong type").detail = detail;
    }

    fn bad_value(&mut self, node: &Node, key: &str, reason: &str, detail: String) {
        let value = match node {
            Node::Scalar(s) => Some(s.as_str().to_string()),
            _ => None,
        };
        let problem = self.error(node_line(node), key, reason);
        problem.value = value;
        problem.detail = detail;
    }

    fn map<'n>(&mut self, node: &'n Node, key: &str, expected: &str) -> Option<Map<'n>> {
        match node {
            Node::Mapping(m) => Some(Map {
                node: m,
                key: key.to_string(),
                line: node_line(node),
            }),
            _ => {
                self.wrong_type(node, key, expected);
                None
            }
        }
    }

    fn list<'n>(&mut self, node: &'n Node, key: &str, expected: &str) -> Option<&'n [Node]> {
        match node {
            Node::Sequence(s) => Some(s.as_slice()),
            _ => {
                self.wrong_type(node, key, expected);
                None
            }
        }
    }

    fn scalar<'n>(&mut self, node: &'n Node, key: &str, expected: &str) -> Option<&'n str> {
        match node {
            Node::Scalar(s) => Some(s.as_str()),
            _ => {
                self.wrong_type(node, key, expected);
                None
            }
        }
    }

    /// Reports every key of `map` not in `allowed`.
    fn allow_keys(&mut self, map: &Map<'_>, allowed: &[&str]) {
        for (key, _) in map.node.iter() {
            if allowed.contains(&key.as_str()) {
                continue;
            }
            let mut detail = format!("allowed keys here: {}", allowed.join(", "));
            if let Some(near) = closest(key.as_str(), allowed) {
                detail.push_str(&format!(" (did you mean {near:?}?)"));
            }
            let problem = self.error(scalar_line(key), &map.path(key.as_str()), "unknown key");
            problem.value = Some(key.as_str().to_string());
            problem.detail = detail;
        }
    }

    /// Parses `key` of `map` with `parse`, reporting it when absent or empty.
    fn required<'n, T>(
        &mut self,
        map: &Map<'n>,
        key: &str,
        parse: impl FnOnce(&mut Self, &'n Node, &str) -> Option<T>,
    ) -> Option<T> {
        let path = map.path(key);
        match map.node.get_node(key) {
            None => {
                self.error(map.line, &path, "missing required key");
                None
            }
            Some(node) if is_null(node) => {
                self.error(map.key_line(key), &path, "missing value for required key");
                None
            }
            Some(node) => parse(self, node, &path),
        }
    }

    /// Parses `key` of `map` with `parse`, or returns `default` when absent or empty.
    fn optional<'n, T>(
        &mut self,
        map: &Map<'n>,
        key: &str,
        default: T,
        parse: impl FnOnce(&mut Self, &'n Node, &str) -> Option<T>,
    ) -> Option<T> {
        match map.get(key) {
            None => Some(default),
            Some(node) => parse(self, node, &map.path(key)),
        }
    }

    fn root(&mut self, root: &Node, rules: &mut RuleSet) {
        let expected = "a mapping with the keys anomaly_detection and/or predictive_monitoring";
        let Some(top) = self.map(root, "", expected) else {
            return;
        };
        self.allow_keys(&top, TOP_KEYS);

        if let Some(node) = top.get("anomaly_detection") {
            let key = top.path("anomaly_detection");
            for (i, item) in self
                .list(node, &key, "a list of rules")
                .unwrap_or_default()
                .iter()
                .enumerate()
            {
                if let Some(rule) = self.anomaly_rule(item, &format!("{key}[{i}]")) {
                    rules.anomaly.push(rule);
                }
            }
        }

        let Some(node) = top.get("predictive_monitoring") else {
            return;
        };
        let expected = "a mapping with capacity_planning, performance_degradation and/or \
                        traffic_prediction";
        let Some(predictive) = self.map(node, "predictive_monitoring", expected) else {
            return;
        };
        self.allow_keys(&predictive, PREDICTIVE_KEYS);
        for kind in [RuleKind::Capacity, RuleKind::Degradation, RuleKind::Traffic] {
            let Some(node) = predictive.get(kind.section()) else {
                continue;
            };
            let key = predictive.path(kind.section());
            let items = self.list(node, &key, "a list of rules").unwrap_or_default();
            for (i, item) in items.iter().enumerate() {
                let key = format!("{key}[{i}]");
                match kind {
                    RuleKind::Capacity => rules.capacity.extend(self.capacity_rule(item, &key, i)),
                    RuleKind::Degradation => rules
                        .degradation
                        .extend(self.degradation_rule(item, &key, i)),
                    RuleKind::Traffic => rules.traffic.extend(self.traffic_rule(item, &key, i)),
                    RuleKind::Anomaly => {}
                }
            }
        }
    }

    fn rule_map<'n>(&mut self, node: &'n Node, key: &str) -> Option<Map<'n>> {
        self.map(node, key, "a rule (a mapping of keys to values)")
    }

    fn origin(&self, map: &Map<'_>) -> Origin {
        Origin {
            file: self.file.to_path_buf(),
            line: map.line,
            key: map.key.clone(),
        }
    }

    fn anomaly_rule(&mut self, node: &Node, key: &str) -> Option<AnomalyRule> {
        let map = self.rule_map(node, key)?;
        self.allow_keys(&map, ANOMALY_KEYS);

        let name = self.required(&map, "name", Walker::name);
        let selector = self.required(&map, "match", Walker::selector);
        let model = self.required(&map, "model", |w, n, k| w.model(n, k, RuleKind::Anomaly));
        let interval_width = self.optional(
            &map,
            "interval_width",
            DEFAULT_INTERVAL_WIDTH,
            Walker::interval_width,
        );
        let seasonality_mode = self.optional(
            &map,
            "seasonality_mode",
            SeasonalityMode::default(),
            |w, n, k| {
                w.choice(
                    n,
                    k,
                    "seasonality mode",
                    &[
                        ("additive", SeasonalityMode::Additive),
                        ("multiplicative", SeasonalityMode::Multiplicative),
                    ],
                )
            },
        );
        let warmup_ms = self.optional(&map, "warmup", DEFAULT_WARMUP_MS, Walker::duration);
        let refit_every_ms = self.optional(
            &map,
            "refit_every",
            DEFAULT_REFIT_EVERY_MS,
            Walker::positive_duration,
        );
        let history_ms = self.optional(
            &map,
            "history",
            DEFAULT_HISTORY_MS,
            Walker::positive_duration,
        );
        let min_deviation =
            self.optional(&map, "min_deviation", DEFAULT_MIN_DEVIATION, |w, n, k| {
                w.number_where(n, k, |v| v >= 0.0, "must be zero or more")
            });
        let alert = self.alert_spec(&map, name);
        let model = model?;

        Some(AnomalyRule {
            alert: alert?,
            selector: selector?,
            model,
            available: model.is_built(RuleKind::Anomaly),
            interval_width: interval_width?,
            seasonality_mode: seasonality_mode?,
            warmup_ms: warmup_ms?,
            refit_every_ms: refit_every_ms?,
            history_ms: history_ms?,
            min_deviation: min_deviation?,
            origin: self.origin(&map),
        })
    }

    fn capacity_rule(&mut self, node: &Node, key: &str, index: usize) -> Option<CapacityRule> {
        let map = self.rule_map(node, key)?;
        self.allow_keys(&map, CAPACITY_KEYS);

        let selector = self.required(&map, "metric", Walker::selector);
        let model = self.required(&map, "model", |w, n, k| w.model(n, k, RuleKind::Capacity));
        let forecast_window_ms = self.required(&map, "forecast_window", Walker::positive_duration);
        let alert_threshold = self.required(&map, "alert_threshold", Walker::threshold);
        let capacity = self.optional(&map, "capacity", None, |w, n, k| w.capacity(n, k).map(Some));
        let name = self.rule_name(&map, RuleKind::Capacity, selector.as_ref(), index);
        let alert = self.alert_spec(&map, name);
        let model = model?;
        let from_series = matches!(capacity, Some(Some(Capacity::Selector(_))));

        Some(CapacityRule {
            alert: alert?,
            selector: selector?,
            model,
            available: model.is_built(RuleKind::Capacity) && !from_series,
            forecast_window_ms: forecast_window_ms?,
            alert_threshold: alert_threshold?,
            capacity: capacity?,
            origin: self.origin(&map),
        })
    }

    fn degradation_rule(
        &mut self,
        node: &Node,
        key: &str,
        index: usize,
    ) -> Option<DegradationRule> {
        let map = self.rule_map(node, key)?;
        self.allow_keys(&map, DEGRADATION_KEYS);

        let selector = self.required(&map, "metric", Walker::selector);
        let model = self.required(&map, "model", |w, n, k| {
            w.model(n, k, RuleKind::Degradation)
        });
        let sensitivity = self.optional(&map, "sensitivity", Sensitivity::default(), |w, n, k| {
            w.choice(
                n,
                k,
                "sensitivity",
                &[
                    ("low", Sensitivity::Low),
                    ("medium", Sensitivity::Medium),
                    ("high", Sensitivity::High),
                ],
            )
        });
        let alert_on = self.optional(&map, "alert_on", ChangeDirection::default(), |w, n, k| {
            w.choice(
                n,
                k,
                "alert_on value",
                &[
                    ("significant_increase", ChangeDirection::Increase),
                    ("significant_decrease", ChangeDirection::Decrease),
                    ("any_change", ChangeDirection::Any),
                ],
            )
        });
        let name = self.rule_name(&map, RuleKind::Degradation, selector.as_ref(), index);
        let alert = self.alert_spec(&map, name);
        let model = model?;

        Some(DegradationRule {
            alert: alert?,
            selector: selector?,
            model,
            available: model.is_built(RuleKind::Degradation),
            sensitivity: sensitivity?,
            alert_on: alert_on?,
            origin: self.origin(&map),
        })
    }

    fn traffic_rule(&mut self, node: &Node, key: &str, index: usize) -> Option<TrafficRule> {
        let map = self.rule_map(node, key)?;
        self.allow_keys(&map, TRAFFIC_KEYS);

        let selector = self.required(&map, "metric", Walker::selector);
        let model = self.required(&map, "model", |w, n, k| w.model(n, k, RuleKind::Traffic));
        let seasonality = self.optional(
            &map,
            "seasonality",
            vec![Season::Daily],
            Walker::seasonality,
        );
        let use_for = self.optional(&map, "use_for", None, |w, n, k| {
            w.scalar(n, k, "a short text such as auto_scaling")
                .map(|s| Some(s.to_string()))
        });
        let horizon_ms = self.optional(
            &map,
            "horizon",
            DEFAULT_HORIZON_MS,
            Walker::positive_duration,
        );
        let headroom = self.optional(&map, "headroom", DEFAULT_HEADROOM, Walker::headroom);
        let capacity_per_replica = self.optional(&map, "capacity_per_replica", None, |w, n, k| {
            w.number_where(n, k, |v| v > 0.0, "must be greater than zero")
                .map(Some)
        });
        let name = self.rule_name(&map, RuleKind::Traffic, selector.as_ref(), index);
        let alert = self.alert_spec(&map, name);
        let model = model?;

        Some(TrafficRule {
            alert: alert?,
            selector: selector?,
            model,
            available: model.is_built(RuleKind::Traffic),
            seasonality: seasonality?,
            use_for: use_for?,
            horizon_ms: horizon_ms?,
            headroom: headroom?,
            capacity_per_replica: capacity_per_replica?,
            origin: self.origin(&map),
        })
    }

    /// The `name` of a predictive rule, or `<section>_<metric>` (`<section>_<index>` when the
    /// selector names no metric).
    fn rule_name(
        &mut self,
        map: &Map<'_>,
        kind: RuleKind,
        selector: Option<&Selector>,
        index: usize,
    ) -> Option<String> {
        if let Some(node) = map.get("name") {
            return self.name(node, &map.path("name"));
        }
        let selector = selector?;
        Some(match selector.metric_name() {
            Some(metric) => format!("{}_{metric}", kind.section()),
            None => format!("{}_{index}", kind.section()),
        })
    }

    /// The keys every rule shares with Prometheus alerting rules.
    fn alert_spec(&mut self, map: &Map<'_>, name: Option<String>) -> Option<AlertSpec> {
        let for_ms = self.optional(map, "for", 0, Walker::duration);
        let keep_firing_for_ms = self.optional(map, "keep_firing_for", 0, Walker::duration);
        let labels = self.optional(map, "labels", BTreeMap::new(), |w, n, k| {
            w.string_map(n, k, true)
        });
        let annotations = self.optional(map, "annotations", BTreeMap::new(), |w, n, k| {
            w.string_map(n, k, false)
        });
        Some(AlertSpec {
            name: name?,
            for_ms: for_ms?,
            keep_firing_for_ms: keep_firing_for_ms?,
            labels: labels?,
            annotations: annotations?,
        })
    }

    fn name(&mut self, node: &Node, key: &str) -> Option<String> {
        let text = self.scalar(node, key, "a rule name")?.trim();
        if text.is_empty() {
            self.bad_value(node, key, "bad rule name", "must not be blank".to_string());
            return None;
        }
        Some(text.to_string())
    }

    fn selector(&mut self, node: &Node, key: &str) -> Option<Selector> {
        let text = self.scalar(
            node,
            key,
            "a metric name or a selector such as up{job=\"api\"}",
        )?;
        match Selector::parse(text) {
            Ok(selector) => Some(selector),
            Err(e) => {
                self.bad_value(node, key, "bad selector", e.to_string());
                None
            }
        }
    }

    /// A model name that is valid for `kind`; warns when it is not built in this version.
    fn model(&mut self, node: &Node, key: &str, kind: RuleKind) -> Option<Model> {
        let text = self.scalar(node, key, "a model name")?;
        let known = kind.models();
        let Some(model) = Model::from_name(text).filter(|m| known.contains(m)) else {
            let names: Vec<&str> = known.iter().map(|m| m.as_str()).collect();
            let mut detail = format!("known models for {}: {}", kind.section(), names.join(", "));
            if let Some(near) = closest(text, &names) {
                detail.push_str(&format!(" (did you mean {near:?}?)"));
            }
            self.bad_value(node, key, "unknown model", detail);
            return None;
        };

        if !model.is_built(kind) {
            let built: Vec<&str> = BUILT_MODELS
                .iter()
                .filter(|(k, _)| *k == kind)
                .map(|(_, m)| m.as_str())
                .collect();
            let built = if built.is_empty() {
                vec!["none yet"]
            } else {
                built
            };
            self.problems.push(
                Problem::warning(self.file, node_line(node), key, "model")
                    .value(text)
                    .detail(format!(
                        "not available in this version; the rule is loaded but will not be \
                         evaluated (available for {}: {})",
                        kind.section(),
                        built.join(", ")
                    )),
            );
        }
        Some(model)
    }

    fn duration(&mut self, node: &Node, key: &str) -> Option<Millis> {
        let text = self.scalar(node, key, "a duration such as 5m")?;
        let parsed = parse_duration(text);
        if parsed.is_none() {
            self.bad_value(node, key, "bad duration", DURATION_HINT.to_string());
        }
        parsed
    }

    fn positive_duration(&mut self, node: &Node, key: &str) -> Option<Millis> {
        let ms = self.duration(node, key)?;
        if ms == 0 {
            self.bad_value(
                node,
                key,
                "bad duration",
                "must be greater than zero".to_string(),
            );
            return None;
        }
        Some(ms)
    }

    fn number(&mut self, node: &Node, key: &str) -> Option<f64> {
        let text = self.scalar(node, key, "a number")?;
        match text.trim().parse::<f64>() {
            Ok(v) if v.is_finite() => Some(v),
            _ => {
                self.bad_value(
                    node,
                    key,
                    "bad number",
                    "expected a finite number such as 0.5".to_string(),
                );
                None
            }
        }
    }

    /// A number for which `ok` holds; `requirement` says what `ok` checks.
    fn number_where(
        &mut self,
        node: &Node,
        key: &str,
        ok: impl Fn(f64) -> bool,
        requirement: &str,
    ) -> Option<f64> {
        let v = self.number(node, key)?;
        if !ok(v) {
            self.bad_value(node, key, "out of range", requirement.to_string());
            return None;
        }
        Some(v)
    }

    fn interval_width(&mut self, node: &Node, key: &str) -> Option<f64> {
        let v = self.number(node, key)?;
        if !(v > 0.0 && v < 1.0) {
            let detail = "interval_width must be strictly between 0 and 1 (0.95 is a 95% band)";
            self.bad_value(node, key, "out of range", detail.to_string());
            return None;
        }
        Some(v)
    }

    /// A ratio ≥ 0, written as a number (`0.2`) or a percentage (`20%`).
    fn headroom(&mut self, node: &Node, key: &str) -> Option<f64> {
        let text = self.scalar(node, key, "a ratio such as 0.2 or 20%")?.trim();
        let parsed = match text.strip_suffix('%') {
            Some(percent) => percent.trim().parse::<f64>().map(|p| p / 100.0),
            None => text.parse::<f64>(),
        };
        match parsed {
            Ok(v) if v.is_finite() && v >= 0.0 => Some(v),
            _ => {
                let detail = "expected a ratio of zero or more, such as 0.2 or 20%";
                self.bad_value(node, key, "bad headroom", detail.to_string());
                None
            }
        }
    }

    /// `80%` (a percentage in (0, 100]) or a number in the metric's unit.
    fn threshold(&mut self, node: &Node, key: &str) -> Option<Threshold> {
        let text = self
            .scalar(node, key, "a percentage such as 80% or a number")?
            .trim();
        let threshold = match text.strip_suffix('%') {
            Some(percent) => match percent.trim().parse::<f64>() {
                Ok(p) if p > 0.0 && p <= 100.0 => Some(Threshold::Percent(p)),
                Ok(p) if p.is_finite() => {
                    let detail = "a percentage threshold must be above 0% and at most 100%";
                    self.bad_value(node, key, "bad threshold", detail.to_string());
                    return None;
                }
                _ => None,
            },
            None => text
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .map(Threshold::Value),
        };
        if threshold.is_none() {
            let detail = "expected a percentage such as 80% or a number in the metric's unit";
            self.bad_value(node, key, "bad threshold", detail.to_string());
        }
        threshold
    }

    /// A number > 0, or otherwise a selector for the series holding the capacity.
    fn capacity(&mut self, node: &Node, key: &str) -> Option<Capacity> {
        let text = self.scalar(node, key, "a number or a selector")?.trim();
        if let Ok(v) = text.parse::<f64>() {
            if v.is_finite() && v > 0.0 {
                return Some(Capacity::Value(v));
            }
            self.bad_value(
                node,
                key,
                "bad capacity",
                "must be a number greater than zero".to_string(),
            );
            return None;
        }
        match Selector::parse(text) {
            Ok(selector) => {
                // A capacity read from another series needs a join across series, which the
                // streaming engine does not do: say so rather than evaluate without it.
                self.problems.push(
                    Problem::warning(self.file, node_line(node), key, "capacity from a series")
                        .value(text)
                        .detail(
                            "not available in this version; the rule is loaded but will not be \
                             evaluated (write the capacity as a number, or alert on a 0-1 ratio \
                             metric named *_ratio or a 0-100 percentage)",
                        ),
                );
                Some(Capacity::Selector(selector))
            }
            Err(e) => {
                let detail = format!("expected a number or a selector; as a selector: {e}");
                self.bad_value(node, key, "bad capacity", detail);
                None
            }
        }
    }

    /// `"daily, weekly"` or `[daily, weekly]`: sorted, without repeats, not empty.
    fn seasonality(&mut self, node: &Node, key: &str) -> Option<Vec<Season>> {
        let choices = [
            ("hourly", Season::Hourly),
            ("daily", Season::Daily),
            ("weekly", Season::Weekly),
        ];
        let mut parts: Vec<(&Node, String)> = Vec::new();
        match node {
            Node::Scalar(s) => {
                parts.extend(s.as_str().split(',').map(|p| (node, p.trim().to_string())));
            }
            Node::Sequence(items) => {
                for item in items.iter() {
                    let text = self.scalar(item, key, "a season name (hourly, daily or weekly)")?;
                    parts.push((item, text.trim().to_string()));
                }
            }
            Node::Mapping(_) => {
                self.wrong_type(
                    node,
                    key,
                    "a comma-separated list such as \"daily, weekly\"",
                );
                return None;
            }
        }

        let mut seasons = Vec::new();
        let mut ok = true;
        for (part_node, part) in parts.into_iter().filter(|(_, p)| !p.is_empty()) {
            match choices.iter().find(|(name, _)| *name == part) {
                Some(&(_, season)) => seasons.push(season),
                None => {
                    let line = node_line(part_node);
                    let problem = self.error(line, key, "unknown seasonality");
                    problem.value = Some(part);
                    problem.detail =
                        "expected a comma-separated list of hourly, daily, weekly".into();
                    ok = false;
                }
            }
        }
        if !ok {
            return None;
        }
        if seasons.is_empty() {
            let detail = "name at least one of hourly, daily, weekly".to_string();
            self.bad_value(node, key, "empty seasonality", detail);
            return None;
        }
        seasons.sort();
        seasons.dedup();
        Some(seasons)
    }

    fn choice<T: Copy>(
        &mut self,
        node: &Node,
        key: &str,
        what: &str,
        choices: &[(&str, T)],
    ) -> Option<T> {
        let text = self.scalar(node, key, what)?;
        if let Some(&(_, value)) = choices.iter().find(|(name, _)| *name == text) {
            return Some(value);
        }
        let names: Vec<&str> = choices.iter().map(|(name, _)| *name).collect();
        let detail = format!("expected one of {}", names.join(", "));
        self.bad_value(node, key, &format!("unknown {what}"), detail);
        None
    }

    /// `labels` or `annotations`: names must be valid label names, values single strings.
    fn string_map(
        &mut self,
        node: &Node,
        key: &str,
        labels: bool,
    ) -> Option<BTreeMap<String, String>> {
        let map = self.map(node, key, "a mapping of names to text values")?;
        let mut out = BTreeMap::new();
        let mut ok = true;

        for (name, value) in map.node.iter() {
            let path = map.path(name.as_str());
            let line = scalar_line(name);
            let reason = if labels {
                "bad label name"
            } else {
                "bad annotation name"
            };
            if !Labels::valid_name(name.as_str()) {
                let problem = self.error(line, &path, reason);
                problem.value = Some(name.as_str().to_string());
                problem.detail = LABEL_NAME_HINT.to_string();
                ok = false;
                continue;
            }
            if labels && name.as_str().starts_with("__") {
                let problem = self.error(line, &path, reason);
                problem.value = Some(name.as_str().to_string());
                problem.detail = "names starting with __ are reserved".to_string();
                ok = false;
                continue;
            }
            let text = match value {
                _ if is_null(value) => "",
                Node::Scalar(s) => s.as_str(),
                _ => {
                    self.wrong_type(value, &path, "a single text value");
                    ok = false;
                    continue;
                }
            };
            if !labels {
                if let Err(reason) = crate::alert::template::validate(text) {
                    let problem = self.error(line, &path, "bad annotation template");
                    problem.value = Some(text.to_string());
                    problem.detail = reason;
                    ok = false;
                    continue;
                }
            }
            out.insert(name.as_str().to_string(), text.to_string());
        }
        ok.then_some(out)
    }
}

/// The candidate closest to `word` by edit distance, when it is a plausible typo.
fn closest<'c>(word: &str, candidates: &[&'c str]) -> Option<&'c str> {
    let limit = (word.chars().count() / 3).clamp(1, 3);
    candidates
        .iter()
        .map(|c| (edit_distance(word, c), *c))
        .filter(|&(d, _)| d <= limit)
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitute.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_catch_typos_only() {
        assert_eq!(closest("fore", ANOMALY_KEYS), Some("for"));
        assert_eq!(
            closest("intervall_width", ANOMALY_KEYS),
            Some("interval_width")
        );
        assert_eq!(
            closest("seasnal", &["seasonal", "prophet"]),
            Some("seasonal")
        );
        assert_eq!(closest("xyz", ANOMALY_KEYS), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn null_values_mean_absent() {
        let rules = parse(
            "mem.yaml",
            "anomaly_detection:\n  - name: a\n    match: up\n    model: seasonal\n    for:\n    \
             labels: ~\n",
        )
        .expect("valid");
        assert_eq!(rules.anomaly[0].alert.for_ms, 0);
        assert!(rules.anomaly[0].alert.labels.is_empty());
    }

    #[test]
    fn unusual_yaml_is_reported_not_panicked_on() {
        let cases = [
            ("a: &x 1\nb: *x\n", "anchors and aliases"),
            ("b: *x\n", "YAML syntax error"),
            ("- a\n- b\n", "the top level must be a mapping"),
            ("just text\n", "the top level must be a mapping"),
            ("!!map {}\n", "tags"),
            ("? [a]\n: b\n", "mapping keys must be plain strings"),
        ];
        for (text, needle) in cases {
            match parse("odd.yaml", text) {
                Err(Error::Config { problems }) => {
                    assert_eq!(problems.len(), 1, "{text:?}: {problems:?}");
                    assert!(problems[0].contains(needle), "{text:?}: {}", problems[0]);
                    assert!(
                        problems[0].starts_with("odd.yaml:1: "),
                        "{text:?}: {}",
                        problems[0]
                    );
                }
                other => panic!("{text:?}: expected a problem, got {other:?}"),
            }
        }

        // Only the first document of a multi-document stream is read.
        let rules = parse("multi.yaml", "anomaly_detection: []\n---\nnonsense: 1\n");
        assert!(rules.is_ok_and(|r| r.is_empty()));
    }
}
