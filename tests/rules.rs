//! Rule file loading and validation against the fixtures in `tests/fixtures/rules/`.
//!
//! Each kind of problem has its own fixture; the tests check the line, key path and wording that
//! an operator will see.

use std::path::{Path, PathBuf};

use seer::rules::{
    check, load, load_all, parse, Capacity, ChangeDirection, Model, Problem, Season,
    SeasonalityMode, Sensitivity, Severity, Threshold, DEFAULT_HEADROOM, DEFAULT_HISTORY_MS,
    DEFAULT_HORIZON_MS, DEFAULT_REFIT_EVERY_MS, DEFAULT_WARMUP_MS,
};
use seer::series::Labels;
use seer::Error;

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/rules")
        .join(name)
}

/// All problems of one fixture, in line order.
fn problems(name: &str) -> Vec<Problem> {
    check([fixture(name)]).problems
}

fn error_count(problems: &[Problem]) -> usize {
    problems.iter().filter(|p| p.is_error()).count()
}

/// The single problem about `key`; fails when there is none or several.
fn problem<'a>(problems: &'a [Problem], key: &str) -> &'a Problem {
    let found: Vec<&Problem> = problems.iter().filter(|p| p.key == key).collect();
    match found.as_slice() {
        [p] => p,
        _ => panic!("expected one problem about {key}, got {found:#?}\nall: {problems:#?}"),
    }
}

fn config_lines(result: Result<seer::rules::RuleSet, Error>) -> Vec<String> {
    match result {
        Err(Error::Config { problems }) => problems,
        Err(other) => panic!("expected a configuration error, got {other}"),
        Ok(rules) => panic!(
            "expected a configuration error, loaded {} rules",
            rules.len()
        ),
    }
}

#[test]
fn seed_document_loads_with_unavailable_models_kept() {
    let rules = load(fixture("seed.yaml")).expect("the seed document is valid");

    assert_eq!(rules.anomaly.len(), 1);
    assert_eq!(
        rules.capacity.len() + rules.degradation.len() + rules.traffic.len(),
        4
    );
    assert_eq!(rules.len(), 5);

    // The anomaly, capacity and degradation rules use built models; the traffic rule's model
    // is not built yet: it is kept, marked unavailable, with one warning.
    assert_eq!(rules.warnings.len(), 1, "{:#?}", rules.warnings);
    for warning in &rules.warnings {
        assert_eq!(warning.severity, Severity::Warning);
        assert!(
            warning
                .to_string()
                .contains("not available in this version"),
            "{warning}"
        );
    }
    let unavailable: Vec<&str> = rules
        .rules()
        .filter(|r| !r.available)
        .map(|r| r.alert.name.as_str())
        .collect();
    assert_eq!(unavailable, ["traffic_prediction_request_rate"]);
    assert!(rules.capacity.iter().all(|r| r.available));
    assert!(rules.degradation.iter().all(|r| r.available));

    let anomaly = &rules.anomaly[0];
    assert!(anomaly.available);
    assert_eq!(anomaly.alert.name, "request_latency_anomaly");
    assert_eq!(
        anomaly.selector.metric_name(),
        Some("app_request_duration_seconds")
    );
    assert_eq!(
        anomaly.selector.to_string(),
        r#"app_request_duration_seconds{endpoint="/api/v1/models"}"#
    );
    assert_eq!(anomaly.model, Model::Seasonal);
    assert_eq!(anomaly.interval_width, 0.95);
    assert_eq!(anomaly.seasonality_mode, SeasonalityMode::Multiplicative);
    assert_eq!(anomaly.alert.for_ms, 5 * MINUTE);
    assert_eq!(anomaly.alert.keep_firing_for_ms, 0);
    assert_eq!(anomaly.alert.labels["severity"], "warning");
    assert_eq!(anomaly.alert.labels["team"], "backend");
    assert_eq!(
        anomaly.alert.annotations["summary"],
        "Latency of {{ $labels.endpoint }} left its usual range"
    );
    assert_eq!(anomaly.warmup_ms, DEFAULT_WARMUP_MS);
    assert_eq!(anomaly.refit_every_ms, DEFAULT_REFIT_EVERY_MS);
    assert_eq!(anomaly.history_ms, DEFAULT_HISTORY_MS);
    assert_eq!(anomaly.min_deviation, 0.0);
    assert_eq!(anomaly.origin.line, 2);
    assert_eq!(anomaly.origin.key, "anomaly_detection[0]");

    let disk = &rules.capacity[0];
    assert_eq!(disk.model, Model::LinearRegression);
    assert_eq!(disk.forecast_window_ms, 30 * DAY);
    assert_eq!(disk.alert_threshold, Threshold::Percent(80.0));
    assert_eq!(disk.capacity, None);
    assert_eq!(disk.origin.line, 12);
    assert_eq!(rules.capacity[1].model, Model::ExponentialSmoothing);
    assert_eq!(rules.capacity[1].forecast_window_ms, 7 * DAY);
    assert_eq!(rules.capacity[1].alert_threshold, Threshold::Percent(90.0));

    let degradation = &rules.degradation[0];
    assert_eq!(degradation.model, Model::ChangePointDetection);
    assert_eq!(degradation.sensitivity, Sensitivity::High);
    assert_eq!(degradation.alert_on, ChangeDirection::Increase);
    assert_eq!(degradation.origin.line, 15);

    let traffic = &rules.traffic[0];
    assert_eq!(traffic.model, Model::Sarima);
    assert_eq!(traffic.seasonality, [Season::Daily, Season::Weekly]);
    assert_eq!(traffic.use_for.as_deref(), Some("auto_scaling"));
    assert_eq!(traffic.horizon_ms, DEFAULT_HORIZON_MS);
    assert_eq!(traffic.headroom, DEFAULT_HEADROOM);
    assert_eq!(traffic.capacity_per_replica, None);
    assert_eq!(traffic.origin.line, 18);

    // The warning points at the `model` value of the traffic rule.
    let lines: Vec<usize> = rules.warnings.iter().map(|w| w.line).collect();
    assert_eq!(lines, [18]);
    assert_eq!(
        rules.warnings[0].key,
        "predictive_monitoring.traffic_prediction[0].model"
    );
    assert_eq!(rules.warnings[0].value.as_deref(), Some("sarima"));
}

#[test]
fn every_key_is_read() {
    let rules = load(fixture("full.yaml")).expect("valid");

    let cpu = &rules.anomaly[0];
    assert_eq!(cpu.interval_width, 0.99);
    assert_eq!(cpu.seasonality_mode, SeasonalityMode::Additive);
    assert_eq!(cpu.warmup_ms, 2 * DAY);
    assert_eq!(cpu.refit_every_ms, 30 * MINUTE);
    assert_eq!(cpu.history_ms, 28 * DAY);
    assert_eq!(cpu.min_deviation, 0.05);
    assert_eq!(cpu.alert.for_ms, 10 * MINUTE);
    assert_eq!(cpu.alert.keep_firing_for_ms, 15 * MINUTE);
    assert_eq!(cpu.alert.labels["priority"], "1");
    assert_eq!(
        cpu.alert.annotations["runbook_url"],
        "https://runbooks.example/cpu"
    );
    let web = Labels::with_metric(
        "node_cpu_seconds_total",
        [("mode", "user"), ("instance", "web-12")],
    );
    let idle = Labels::with_metric(
        "node_cpu_seconds_total",
        [("mode", "idle"), ("instance", "web-1")],
    );
    let db = Labels::with_metric(
        "node_cpu_seconds_total",
        [("mode", "user"), ("instance", "db-1")],
    );
    assert!(cpu.selector.matches(&web));
    assert!(!cpu.selector.matches(&idle));
    assert!(!cpu.selector.matches(&db));

    let prophet = &rules.anomaly[1];
    assert_eq!(prophet.model, Model::Prophet);
    assert!(!prophet.available);

    let disk = &rules.capacity[0];
    assert_eq!(disk.alert.name, "disk_full_soon");
    assert_eq!(disk.alert.for_ms, HOUR);
    assert_eq!(disk.forecast_window_ms, 14 * DAY);
    match &disk.capacity {
        Some(Capacity::Selector(s)) => {
            assert_eq!(
                s.to_string(),
                r#"node_filesystem_size_bytes{mountpoint="/"}"#
            )
        }
        other => panic!("expected a capacity selector, got {other:?}"),
    }
    // A capacity read from a series is not evaluated in this version: the rule is reported.
    assert!(!disk.available);
    let capacity_warning = rules
        .warnings
        .iter()
        .find(|w| w.key == "predictive_monitoring.capacity_planning[0].capacity")
        .expect("a warning about the capacity selector");
    assert_eq!(capacity_warning.reason, "capacity from a series");
    assert!(capacity_warning
        .detail
        .starts_with("not available in this version"));
    let queue = &rules.capacity[1];
    assert!(queue.available);
    assert_eq!(queue.alert.name, "capacity_planning_queue_depth");
    assert_eq!(queue.alert_threshold, Threshold::Value(10_000.0));
    assert_eq!(queue.capacity, Some(Capacity::Value(20_000.0)));
    assert_eq!(Threshold::Percent(95.0).level(Some(200.0)), 190.0);
    assert_eq!(Threshold::Percent(80.0).level(None), 80.0);

    let degradation = &rules.degradation[0];
    assert_eq!(
        degradation.alert.name,
        "performance_degradation_error_ratio"
    );
    assert_eq!(degradation.sensitivity, Sensitivity::Medium);
    assert_eq!(degradation.alert_on, ChangeDirection::Any);

    let traffic = &rules.traffic[0];
    // Traffic rules are not evaluated in this version, whatever their model.
    assert!(
        !traffic.available,
        "traffic prediction is reported as not available"
    );
    assert_eq!(traffic.seasonality, [Season::Hourly, Season::Weekly]);
    assert_eq!(traffic.horizon_ms, 12 * HOUR);
    assert_eq!(traffic.headroom, 0.25);
    assert_eq!(traffic.capacity_per_replica, Some(150.0));
    assert_eq!(traffic.use_for, None);
    assert_eq!(traffic.alert.labels["team"], "platform");

    assert!(degradation.available);

    // prophet, the capacity selector, and the traffic rule (seasonal, but traffic rules are
    // not evaluated yet).
    assert_eq!(rules.warnings.len(), 3, "{:#?}", rules.warnings);
}

#[test]
fn yaml_syntax_error_has_its_line() {
    let problems = problems("bad_syntax.yaml");
    assert_eq!(problems.len(), 1, "{problems:#?}");
    let p = &problems[0];
    assert_eq!(p.reason, "YAML syntax error");
    assert_eq!(p.severity, Severity::Error);
    assert!((5..=6).contains(&p.line), "{p}");
    assert!(p.to_string().contains("bad_syntax.yaml:"), "{p}");
}

#[test]
fn duplicate_yaml_key_is_reported() {
    let problems = problems("duplicate_key.yaml");
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_eq!(problems[0].line, 6);
    assert_eq!(
        problems[0].to_string().split_once(": ").map(|x| x.1),
        Some("duplicate key \"for\": already given at line 5")
    );
}

#[test]
fn unknown_keys_are_named_with_the_allowed_ones() {
    let problems = problems("unknown_key.yaml");
    assert_eq!(error_count(&problems), 4, "{problems:#?}");

    let fore = problem(&problems, "anomaly_detection[0].fore");
    assert_eq!(fore.line, 5);
    assert_eq!(fore.value.as_deref(), Some("fore"));
    let text = fore.to_string();
    assert!(text.contains("unknown key \"fore\""), "{text}");
    assert!(
        text.contains("name, match, model, interval_width"),
        "{text}"
    );
    assert!(text.contains("did you mean \"for\"?"), "{text}");

    assert_eq!(problem(&problems, "alerting").line, 7);
    let section = problem(&problems, "predictive_monitoring.capacity_planing");
    assert_eq!(section.line, 9);
    assert!(section
        .detail
        .contains("did you mean \"capacity_planning\"?"));
    let replicas = problem(
        &problems,
        "predictive_monitoring.traffic_prediction[0].replicas",
    );
    assert_eq!(replicas.line, 11);
    assert!(replicas.detail.contains("capacity_per_replica"));
}

#[test]
fn bad_durations_are_all_reported_in_the_documented_format() {
    let lines = config_lines(parse(
        "models/bad.yaml",
        include_str!("fixtures/rules/bad_duration.yaml"),
    ));
    assert_eq!(
        lines,
        [
            "models/bad.yaml:7: anomaly_detection[0].for: bad duration \"5 minutes\": expected a \
             Prometheus duration such as 5m or 1h30m",
            "models/bad.yaml:8: anomaly_detection[0].keep_firing_for: bad duration \"10\": \
             expected a Prometheus duration such as 5m or 1h30m",
            "models/bad.yaml:10: anomaly_detection[0].refit_every: bad duration \"0s\": must be \
             greater than zero",
            "models/bad.yaml:13: predictive_monitoring.capacity_planning[0].forecast_window: bad \
             duration \"a month\": expected a Prometheus duration such as 5m or 1h30m",
        ]
    );
}

#[test]
fn load_collects_every_problem_of_a_file() {
    let lines = config_lines(load(fixture("bad_duration.yaml")));
    assert_eq!(lines.len(), 4);
    assert!(lines[0].ends_with(
        "bad_duration.yaml:7: anomaly_detection[0].for: bad duration \"5 minutes\": expected a \
         Prometheus duration such as 5m or 1h30m"
    ));
}

#[test]
fn unknown_models_list_the_known_ones() {
    let problems = problems("unknown_model.yaml");
    assert_eq!(problems.len(), 3, "{problems:#?}");

    let typo = problem(&problems, "anomaly_detection[0].model");
    assert_eq!(typo.line, 4);
    assert_eq!(
        typo.to_string().split_once(": ").map(|x| x.1),
        Some(
            "anomaly_detection[0].model: unknown model \"seasonl\": known models for \
             anomaly_detection: seasonal, prophet (did you mean \"seasonal\"?)"
        )
    );
    // A model that exists, but not for this kind of rule.
    let sarima = problem(&problems, "anomaly_detection[1].model");
    assert_eq!(sarima.reason, "unknown model");
    let capacity = problem(
        &problems,
        "predictive_monitoring.capacity_planning[0].model",
    );
    assert!(capacity
        .detail
        .contains("linear_regression, exponential_smoothing"));
}

#[test]
fn malformed_selectors_carry_the_parser_reason() {
    let problems = problems("bad_selector.yaml");
    assert_eq!(error_count(&problems), 4, "{problems:#?}");

    let unclosed = problem(&problems, "anomaly_detection[0].match");
    assert_eq!(unclosed.line, 3);
    assert_eq!(unclosed.reason, "bad selector");
    assert_eq!(unclosed.value.as_deref(), Some(r#"up{job="api""#));
    assert!(unclosed.detail.contains("unclosed brace"), "{unclosed}");

    let everything = problem(&problems, "anomaly_detection[1].match");
    assert!(
        everything
            .detail
            .contains("does not match the empty string"),
        "{everything}"
    );

    let group = problem(&problems, "anomaly_detection[2].match");
    assert!(group.detail.contains("group"), "{group}");
    assert!(group.detail.contains("not supported"), "{group}");

    let metric = problem(
        &problems,
        "predictive_monitoring.capacity_planning[0].metric",
    );
    assert!(
        metric.detail.contains("bad metric name \"disk-usage\""),
        "{metric}"
    );
}

#[test]
fn wrong_types_say_what_was_expected() {
    let problems = problems("wrong_type.yaml");
    assert_eq!(error_count(&problems), 4, "{problems:#?}");

    let section = problem(&problems, "anomaly_detection");
    assert_eq!(section.line, 2);
    assert_eq!(section.detail, "expected a list of rules, found a mapping");

    let window = problem(
        &problems,
        "predictive_monitoring.capacity_planning[0].forecast_window",
    );
    assert_eq!(window.line, 9);
    assert!(window.detail.contains("found a list"));

    let labels = problem(
        &problems,
        "predictive_monitoring.capacity_planning[0].labels",
    );
    assert_eq!(labels.line, 11);
    assert!(labels.detail.contains("expected a mapping"));

    let traffic = problem(&problems, "predictive_monitoring.traffic_prediction");
    assert_eq!(
        traffic.detail,
        "expected a list of rules, found a single value"
    );
}

#[test]
fn interval_width_must_be_strictly_between_zero_and_one() {
    let problems = problems("interval_width.yaml");
    assert_eq!(problems.len(), 4, "{problems:#?}");

    let wide = problem(&problems, "anomaly_detection[0].interval_width");
    assert_eq!(wide.line, 5);
    assert_eq!(wide.reason, "out of range");
    assert_eq!(wide.value.as_deref(), Some("1.5"));
    assert_eq!(
        problem(&problems, "anomaly_detection[1].interval_width").reason,
        "out of range"
    );
    assert_eq!(
        problem(&problems, "anomaly_detection[2].interval_width").reason,
        "bad number"
    );
    let deviation = problem(&problems, "anomaly_detection[3].min_deviation");
    assert_eq!(deviation.detail, "must be zero or more");
}

#[test]
fn missing_required_keys_point_at_the_rule() {
    let problems = problems("missing_key.yaml");
    assert_eq!(error_count(&problems), 6, "{problems:#?}");

    let name = problem(&problems, "anomaly_detection[0].name");
    assert_eq!(
        (name.line, name.reason.as_str()),
        (2, "missing required key")
    );
    assert_eq!(problem(&problems, "anomaly_detection[1].match").line, 4);
    // An empty value is reported on the line of its key.
    let model = problem(&problems, "anomaly_detection[1].model");
    assert_eq!(
        (model.line, model.reason.as_str()),
        (5, "missing value for required key")
    );
    let capacity = "predictive_monitoring.capacity_planning[0]";
    assert_eq!(
        problem(&problems, &format!("{capacity}.forecast_window")).line,
        8
    );
    assert_eq!(
        problem(&problems, &format!("{capacity}.alert_threshold")).line,
        8
    );
    let metric = problem(
        &problems,
        "predictive_monitoring.performance_degradation[0].metric",
    );
    assert_eq!(metric.line, 10);
}

#[test]
fn duplicate_rule_names_are_errors() {
    let problems = problems("duplicate_name.yaml");
    // Two duplicate errors; the predictive rules also warn that their model is not built.
    let errors: Vec<&Problem> = problems.iter().filter(|p| p.is_error()).collect();
    assert_eq!(errors.len(), 2, "{problems:#?}");

    let anomaly = problem(&problems, "anomaly_detection[1].name");
    assert_eq!(anomaly.line, 5);
    assert_eq!(anomaly.value.as_deref(), Some("latency"));
    assert!(anomaly.detail.contains("anomaly_detection[0]"), "{anomaly}");
    assert!(
        anomaly.detail.contains("duplicate_name.yaml:2"),
        "{anomaly}"
    );

    // Default names collide when two rules watch the same metric.
    let capacity = problem(&problems, "predictive_monitoring.capacity_planning[1].name");
    assert_eq!(
        capacity.value.as_deref(),
        Some("capacity_planning_disk_usage")
    );
    assert!(capacity.detail.contains("set `name`"));
}

#[test]
fn duplicate_names_across_files() {
    let dir = fixture("split");
    let report = check([&dir]);
    assert_eq!(report.files, 2);
    let errors: Vec<&Problem> = report.errors().collect();
    assert_eq!(errors.len(), 1, "{report}");
    assert!(errors[0].file.ends_with("b.yaml"));
    assert_eq!(errors[0].line, 3);
    assert!(errors[0].detail.contains("a.yaml:2"), "{}", errors[0]);

    let lines = config_lines(load_all([&dir]));
    assert_eq!(lines.len(), 1);
    // Each file alone is fine.
    assert_eq!(load(dir.join("a.yaml")).map(|r| r.len()).ok(), Some(1));
}

#[test]
fn bad_label_and_annotation_names() {
    let problems = problems("bad_label.yaml");
    assert_eq!(problems.len(), 4, "{problems:#?}");

    let dash = problem(&problems, "anomaly_detection[0].labels.team-name");
    assert_eq!(dash.line, 7);
    assert_eq!(dash.reason, "bad label name");
    assert!(dash.detail.contains("[a-zA-Z_][a-zA-Z0-9_]*"));
    let reserved = problem(&problems, "anomaly_detection[0].labels.__tenant__");
    assert!(reserved.detail.contains("reserved"));
    let nested = problem(&problems, "anomaly_detection[0].labels.owner");
    assert_eq!(nested.reason, "wrong type");
    let annotation = problem(&problems, "anomaly_detection[0].annotations.runbook url");
    assert_eq!(annotation.reason, "bad annotation name");
    assert_eq!(annotation.line, 11);
}

#[test]
fn bad_thresholds_and_capacities() {
    let problems = problems("bad_threshold.yaml");
    let errors: Vec<&Problem> = problems.iter().filter(|p| p.is_error()).collect();
    assert_eq!(errors.len(), 4, "{problems:#?}");

    let key = |i: usize, k: &str| format!("predictive_monitoring.capacity_planning[{i}].{k}");
    let words = problem(&problems, &key(0, "alert_threshold"));
    assert_eq!(words.line, 3);
    assert_eq!(words.reason, "bad threshold");
    assert_eq!(words.value.as_deref(), Some("80 percent"));
    assert!(words.detail.contains("80%"));
    let over = problem(&problems, &key(1, "alert_threshold"));
    assert!(over.detail.contains("at most 100%"), "{over}");
    assert_eq!(
        problem(&problems, &key(2, "alert_threshold")).reason,
        "bad threshold"
    );
    let capacity = problem(&problems, &key(3, "capacity"));
    assert_eq!(capacity.line, 7);
    assert!(capacity.detail.contains("greater than zero"));
}

#[test]
fn bad_predictive_values() {
    let problems = problems("predictive_values.yaml");
    let errors: Vec<&Problem> = problems.iter().filter(|p| p.is_error()).collect();
    assert_eq!(errors.len(), 6, "{problems:#?}");

    let degradation = "predictive_monitoring.performance_degradation[0]";
    let sensitivity = problem(&problems, &format!("{degradation}.sensitivity"));
    assert_eq!(sensitivity.detail, "expected one of low, medium, high");
    let alert_on = problem(&problems, &format!("{degradation}.alert_on"));
    assert_eq!(alert_on.line, 4);
    assert!(alert_on.detail.contains("significant_increase"));

    let traffic = "predictive_monitoring.traffic_prediction[0]";
    let seasonality = problem(&problems, &format!("{traffic}.seasonality"));
    assert_eq!(seasonality.value.as_deref(), Some("monthly"));
    assert_eq!(
        problem(&problems, &format!("{traffic}.headroom")).reason,
        "bad headroom"
    );
    assert_eq!(
        problem(&problems, &format!("{traffic}.capacity_per_replica")).line,
        7
    );
    assert_eq!(
        problem(&problems, &format!("{traffic}.horizon")).reason,
        "bad duration"
    );
}

#[test]
fn empty_file_has_no_rules() {
    let rules = load(fixture("empty.yaml")).expect("an empty file is valid");
    assert!(rules.is_empty());
    assert!(rules.warnings.is_empty());
}

#[test]
fn unreadable_files() {
    let missing = fixture("does_not_exist.yaml");
    assert!(matches!(load(&missing), Err(Error::Io { .. })));

    let report = check([&missing]);
    assert_eq!(report.files, 1);
    let errors: Vec<&Problem> = report.errors().collect();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].line, 0);
    assert!(errors[0]
        .to_string()
        .contains("does_not_exist.yaml: cannot read the file"));
}

#[test]
fn report_over_a_directory_prints_one_problem_per_line() {
    let report = check([fixture("")]);
    // Every top-level fixture is read; `split/` is not descended into.
    assert_eq!(report.files, 16);
    assert!(report.has_errors());
    assert_eq!(
        report.errors().count() + report.warnings().count(),
        report.problems.len()
    );

    let text = report.to_string();
    assert_eq!(text.lines().count(), report.problems.len());
    for (line, problem) in text.lines().zip(&report.problems) {
        assert_eq!(line, problem.to_string());
        assert_eq!(
            line.contains(" warning: "),
            problem.severity == Severity::Warning,
            "{line}"
        );
    }

    // Problems come in file order (sorted by name), then line order.
    let files: Vec<&Path> = report.problems.iter().map(|p| p.file.as_path()).collect();
    let mut sorted = files.clone();
    sorted.sort();
    assert_eq!(files, sorted);
}
