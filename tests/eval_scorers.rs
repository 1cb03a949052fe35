//! Benchmark scorers against hand-worked cases (always run) and against the published or
//! reference numbers of NAB, M4 and TCPD (run when `../shared/benchdata` exists next to the
//! crate; skipped with a note otherwise).
//!
//! Identities used in the hand-worked numbers: NAB's `sigma(y) = 2 / (1 + e^(5y)) - 1` equals
//! `tanh(-5y / 2)`, so `sigma(-1) = tanh(2.5) = 0.9866142981514303`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use seer::eval::m4;
use seer::eval::nab::{
    self, default_profiles, load_detector_scores, read_profiles, score_at_threshold, score_corpus,
    CostProfile, NabCorpus, NabFile, RowWindow, ScoresByFile, ThresholdSweep,
};
use seer::eval::tcpd;

const SIGMA_MINUS_ONE: f64 = 0.9866142981514303;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/eval")
}

/// `../shared/benchdata/<name>` next to the crate, or `None` (with a note) when it is absent.
fn benchdata(name: &str) -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/benchdata")
        .join(name);
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "note: {} not found; skipping this reference test",
            dir.display()
        );
        None
    }
}

fn assert_close(got: f64, want: f64, tolerance: f64, what: &str) {
    assert!(
        (got - want).abs() <= tolerance,
        "{what}: got {got}, want {want} (tolerance {tolerance})"
    );
}

// ---------------------------------------------------------------------------------------------
// NAB, hand-worked

/// One 100-row file (probation floor(0.15 * 100) = 15 rows) with windows over the given rows,
/// flagged (score 1.0) at `detections` and 0.0 elsewhere, scored with the standard profile
/// (A_TP 1, A_FP 0.11, A_FN 1) at threshold 0.5.
fn score_one_file(windows: &[(usize, usize)], detections: &[usize]) -> nab::ProfileReport {
    let timestamps = (0..100).map(|i| i * 60_000).collect();
    let windows = windows
        .iter()
        .map(|&(first_row, last_row)| RowWindow {
            first_row,
            last_row,
        })
        .collect();
    let file = NabFile::with_row_windows("cat/f.csv", timestamps, windows).unwrap();
    let corpus = NabCorpus::new(vec![file]).unwrap();
    let mut scores = vec![0.0; 100];
    for &i in detections {
        scores[i] = 1.0;
    }
    let scores = ScoresByFile::from([("cat/f.csv".to_string(), scores)]);
    score_at_threshold(&corpus, &scores, &CostProfile::standard(), 0.5).unwrap()
}

#[test]
fn nab_detection_at_window_start_earns_a_tp() {
    // Window rows 40..=49 (w = 10). Row 40: y = -(49 - 40 + 1) / 10 = -1, credit
    // sigma(-1) / sigma(-1) = 1 = A_TP.
    let r = score_one_file(&[(40, 49)], &[40]);
    assert_eq!(r.raw_score, 1.0);
    assert_eq!(r.counts.true_positives, 1);
    assert_eq!(r.counts.false_negatives, 9);
    // 85 scored rows, 10 in the window: 75 true negatives.
    assert_eq!(r.counts.true_negatives, 75);
    // Normalised: 100 * (1 - (-1)) / (1 - (-1)) = 100.
    assert_eq!(r.normalized_score, Some(100.0));
}

#[test]
fn nab_detection_at_window_end_earns_sigma_of_one_over_w() {
    // Row 49: y = -(49 - 49 + 1) / 10 = -0.1, sigma(-0.1) = tanh(0.25) = 0.24491866240370913;
    // credit 0.24491866240370913 / 0.9866142981514303 = 0.24824154977542992.
    let r = score_one_file(&[(40, 49)], &[49]);
    assert_close(
        r.raw_score,
        0.24491866240370913 / SIGMA_MINUS_ONE,
        1e-12,
        "raw",
    );
    assert_close(r.raw_score, 0.24824154977542992, 1e-12, "raw");
}

#[test]
fn nab_only_the_earliest_detection_in_a_window_counts() {
    // Rows 42 and 45: the best is row 42, y = -(49 - 42 + 1) / 10 = -0.8,
    // sigma(-0.8) = tanh(2) = 0.9640275800758169, credit 0.9640275800758169 / 0.98661... =
    // 0.9771068409226047. Both rows count as true positives.
    let r = score_one_file(&[(40, 49)], &[45, 42]);
    assert_close(
        r.raw_score,
        0.9640275800758169 / SIGMA_MINUS_ONE,
        1e-12,
        "raw",
    );
    assert_eq!(r.counts.true_positives, 2);
}

#[test]
fn nab_false_positive_before_any_window_costs_a_fp() {
    // Row 20 is before the only window: -A_FP = -0.11; the window is missed: -A_FN = -1.
    // Raw = -1.11.
    let r = score_one_file(&[(40, 49)], &[20]);
    assert_close(r.raw_score, -1.11, 1e-12, "raw");
    assert_eq!(r.counts.false_positives, 1);
    assert_eq!(r.counts.true_negatives, 74);
}

#[test]
fn nab_missed_window_costs_a_fn() {
    // Nothing flagged: -A_FN = -1, the null score; normalised 0.
    let r = score_one_file(&[(40, 49)], &[]);
    assert_eq!(r.raw_score, -1.0);
    assert_eq!(r.null_score, -1.0);
    assert_eq!(r.perfect_score, 1.0);
    assert_eq!(r.normalized_score, Some(0.0));
}

#[test]
fn nab_probationary_detections_count_for_nothing() {
    // Rows 0..15 are probationary: a detection at row 5 (or 14) is neither a false positive nor
    // a true negative; the score is the null score -1.
    let r = score_one_file(&[(40, 49)], &[5, 14]);
    assert_eq!(r.raw_score, -1.0);
    assert_eq!(r.counts.false_positives, 0);
    assert_eq!(r.counts.true_negatives, 75);
    // Row 15 is the first scored row: a full -A_FP.
    let r = score_one_file(&[(40, 49)], &[15]);
    assert_close(r.raw_score, -1.11, 1e-12, "raw");
}

#[test]
fn nab_false_positives_after_a_window_are_weighted_from_it() {
    // Row 54 after window 40..=49: y = (54 - 49) / (10 - 1) = 5/9, sigma(5/9) = -tanh(25/18) =
    // -0.8829261942512643. Raw = -1 (missed) + 0.11 * -0.8829261942512643.
    let r = score_one_file(&[(40, 49)], &[54]);
    assert_close(r.raw_score, -1.0 - 0.11 * 0.8829261942512643, 1e-12, "raw");
    // Row 80: y = 31/9 > 3, a full -A_FP: -1 - 0.11.
    let r = score_one_file(&[(40, 49)], &[80]);
    assert_close(r.raw_score, -1.11, 1e-12, "raw");
    // With a second window 70..=74 (w = 5): row 60 is weighted from the first window,
    // y = 11/9, sigma = -tanh(55/18) = -0.995573648215434; row 80 from the second,
    // y = (80 - 74) / 4 = 1.5, sigma = -tanh(3.75) = -0.9988944427261528. Both windows missed.
    let r = score_one_file(&[(40, 49), (70, 74)], &[60, 80]);
    let want = -2.0 - 0.11 * (0.995573648215434 + 0.9988944427261528);
    assert_close(r.raw_score, want, 1e-12, "raw");
}

/// The two-file fixture corpus, its detector's scores and profiles, read from disk.
fn fixture_corpus() -> (NabCorpus, ScoresByFile, Vec<CostProfile>) {
    let dir = fixtures().join("nab");
    let corpus = NabCorpus::load(&dir).unwrap();
    let scores = load_detector_scores(&corpus, &dir.join("results/det")).unwrap();
    let profiles = read_profiles(&dir.join("config/profiles.json")).unwrap();
    (corpus, scores, profiles)
}

#[test]
fn nab_readers_map_windows_to_rows() {
    let (corpus, scores, profiles) = fixture_corpus();
    assert_eq!(profiles, default_profiles());
    let names: Vec<&str> = corpus.files().iter().map(|f| f.name()).collect();
    assert_eq!(names, ["cat/a.csv", "cat/b.csv"]);
    // Windows 00:40..00:49 and 01:00..01:09 on one-minute rows, both ends included.
    let a = corpus.file("cat/a.csv").unwrap();
    assert_eq!(
        a.windows(),
        [RowWindow {
            first_row: 40,
            last_row: 49
        }]
    );
    let b = corpus.file("cat/b.csv").unwrap();
    assert_eq!(b.windows()[0].first_row, 60);
    assert_eq!(b.windows()[0].last_row, 69);
    // The anomaly_score column is found by name (third of four columns).
    assert_eq!(scores["cat/a.csv"][40], 0.9);
    assert_eq!(scores["cat/b.csv"][90], 0.8);
}

#[test]
fn nab_threshold_sweep_on_a_two_file_corpus() {
    // File a: window rows 40..=49, scores 0.95 at row 5 (probationary), 0.6 at row 20 (before
    // the window), 0.9 at row 40 (window start), 0.65 at row 45 (later in the window).
    // File b: window rows 60..=69, 0.7 at row 65, 0.8 at row 90 (after the window). Others 0.1.
    //
    // Standard profile, candidates from the top (row 5 is probationary, so 0.95 is none):
    //   1.1  nothing flagged: -1 - 1                                           = -2
    //   0.9  a: row 40 earns 1                       : 1 - 1                    = 0
    //   0.8  b: row 90, y = 21/9, sigma = -tanh(35/6) = -0.9999828502688526
    //        : 0 - 0.11 * 0.9999828502688526                                   = -0.10999811
    //   0.7  b: row 65, y = -(69 - 65 + 1) / 10 = -0.5, credit tanh(1.25) / tanh(2.5) =
    //        0.8482836399575129 / 0.9866142981514303 = 0.8597925669097837
    //        : 1 + 0.8597925669097837 - 0.11 * 0.9999828502688526              = 1.74979445
    //   0.65 a: row 45 is later than row 40 in the same window: no change      = 1.74979445
    //   0.6  a: row 20, -0.11                                                  = 1.63979445
    //   0.1  every other row: many more false positives                        < 0
    // Best: 1.74979445 at 0.7 (0.65 ties and loses: the higher threshold wins).
    let (corpus, scores, profiles) = fixture_corpus();
    let report = score_corpus(&corpus, &scores, &profiles).unwrap();
    assert_eq!(
        (report.files, report.windows, report.rows_scored),
        (2, 2, 170)
    );

    let standard = &report.profiles[0];
    assert_eq!(standard.profile.name, "standard");
    assert_eq!(standard.threshold, 0.7);
    let want = 1.0 + 0.8482836399575129 / SIGMA_MINUS_ONE - 0.11 * 0.9999828502688526;
    assert_close(standard.raw_score, want, 1e-12, "standard raw");
    // 100 * (1.74979445 + 2) / (2 + 2) = 93.7448613.
    assert_close(
        standard.normalized_score.unwrap(),
        100.0 * (want + 2.0) / 4.0,
        1e-9,
        "standard normalised",
    );
    // Flagged rows: 40 and 65 in windows, 90 outside. 20 window rows, 150 rows outside.
    let c = standard.counts;
    assert_eq!(
        (
            c.true_positives,
            c.false_positives,
            c.false_negatives,
            c.true_negatives
        ),
        (2, 1, 18, 149)
    );
    assert_eq!(standard.files[0].file, "cat/a.csv");
    assert_eq!(standard.files[0].raw_score, 1.0);
    assert_close(standard.files[1].raw_score, want - 1.0, 1e-12, "file b raw");

    // Low FP rate (A_FP 0.22): 0.7 still wins with 1 + 0.85979257 - 0.22 * 0.99998285.
    let low_fp = &report.profiles[1];
    assert_eq!(low_fp.threshold, 0.7);
    let want_fp = 1.0 + 0.8482836399575129 / SIGMA_MINUS_ONE - 0.22 * 0.9999828502688526;
    assert_close(low_fp.raw_score, want_fp, 1e-12, "low FP raw");

    // Low FN rate (A_FN 2): the same raw score (both windows caught), null -4:
    // 100 * (1.74979445 + 4) / (2 + 4).
    let low_fn = &report.profiles[2];
    assert_eq!(low_fn.threshold, 0.7);
    assert_close(
        low_fn.normalized_score.unwrap(),
        100.0 * (want + 4.0) / 6.0,
        1e-9,
        "low FN normalised",
    );

    // The sweep's incremental curve equals a direct evaluation at every candidate.
    let sweep = ThresholdSweep::new(&corpus, &scores).unwrap();
    for profile in &profiles {
        let curve = sweep.curve(profile);
        let thresholds: Vec<f64> = curve.iter().map(|p| p.threshold).collect();
        assert_eq!(thresholds, [1.1, 0.9, 0.8, 0.7, 0.65, 0.6, 0.1]);
        for point in curve {
            let direct = score_at_threshold(&corpus, &scores, profile, point.threshold).unwrap();
            assert_close(point.raw_score, direct.raw_score, 1e-12, "curve vs direct");
            assert_eq!(point.true_positives, direct.counts.true_positives);
            assert_eq!(point.false_positives, direct.counts.false_positives);
        }
    }
}

#[test]
fn nab_rejects_mismatched_scores() {
    let (corpus, mut scores, profiles) = fixture_corpus();
    scores.get_mut("cat/b.csv").unwrap().pop();
    let err = score_corpus(&corpus, &scores, &profiles).unwrap_err();
    assert!(err.to_string().contains("cat/b.csv"), "{err}");

    let (_, mut scores, _) = fixture_corpus();
    scores.get_mut("cat/a.csv").unwrap()[50] = 1.5;
    let err = score_corpus(&corpus, &scores, &profiles).unwrap_err();
    assert!(err.to_string().contains("outside [0, 1]"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// NAB, against NAB's own scorer (reference_scores.md)

/// One row of reference_scores.md: threshold, raw, TP, FP, FN, TN, normalised.
struct Reference {
    detector: &'static str,
    profile: &'static str,
    threshold: f64,
    raw: f64,
    counts: [usize; 4],
    normalized: f64,
}

#[rustfmt::skip]
const REFERENCE: &[Reference] = &[
    Reference { detector: "numenta", profile: "standard", threshold: 0.543099145074,
        raw: 20.6904986799831, counts: [103, 67, 11429, 112521], normalized: 69.519338 },
    Reference { detector: "numenta", profile: "reward_low_FP_rate", threshold: 0.575335555563,
        raw: 13.656409434373003, counts: [95, 50, 11437, 112538], normalized: 62.883405 },
    Reference { detector: "numenta", profile: "reward_low_FN_rate", threshold: 0.543099145074,
        raw: 11.6904986799831, counts: [103, 67, 11429, 112521], normalized: 74.019182 },
    Reference { detector: "windowedGaussian", profile: "standard", threshold: 0.999999999999,
        raw: -13.036852803267042, counts: [76, 55, 11456, 112533], normalized: 37.701082 },
    Reference { detector: "windowedGaussian", profile: "reward_low_FP_rate", threshold: 1.0,
        raw: -18.315265461373233, counts: [70, 43, 11462, 112545], normalized: 32.721448 },
    Reference { detector: "windowedGaussian", profile: "reward_low_FN_rate",
        threshold: 0.999999999999, raw: -41.03685280326704, counts: [76, 55, 11456, 112533],
        normalized: 40.857325 },
    Reference { detector: "contextOSE", profile: "standard", threshold: 0.766433566434,
        raw: 17.098149459044055, counts: [40, 33, 11492, 112555], normalized: 66.130330 },
    Reference { detector: "contextOSE", profile: "reward_low_FP_rate", threshold: 0.766433566434,
        raw: 13.530328266681312, counts: [40, 33, 11492, 112555], normalized: 62.764461 },
    Reference { detector: "contextOSE", profile: "reward_low_FN_rate", threshold: 0.707192923899,
        raw: 4.8888934006761, counts: [48, 58, 11484, 112530], normalized: 69.741442 },
];

#[test]
fn nab_reproduces_reference_scores() {
    let Some(dir) = benchdata("nab") else {
        return;
    };
    let started = Instant::now();
    let corpus = NabCorpus::load(&dir).unwrap();
    let profiles = read_profiles(&dir.join("config/profiles.json")).unwrap();
    assert_eq!(profiles, default_profiles());
    assert_eq!(corpus.files().len(), 31);
    assert_eq!(corpus.window_count(), 53);
    let loaded = started.elapsed();

    for detector in ["numenta", "windowedGaussian", "contextOSE"] {
        let started = Instant::now();
        let scores = load_detector_scores(&corpus, &dir.join("results").join(detector)).unwrap();
        let read = started.elapsed();
        let report = score_corpus(&corpus, &scores, &profiles).unwrap();
        eprintln!(
            "nab {detector}: corpus {loaded:?}, scores read in {read:?}, scored in {:?}",
            started.elapsed() - read
        );
        assert_eq!(report.rows_scored, 124_120);
        assert_eq!(report.windows, 53);

        for got in &report.profiles {
            let want = REFERENCE
                .iter()
                .find(|r| r.detector == detector && r.profile == got.profile.name)
                .unwrap();
            let what = format!("{detector} {}", want.profile);
            assert_close(
                got.threshold,
                want.threshold,
                1e-9,
                &format!("{what} threshold"),
            );
            assert_close(got.raw_score, want.raw, 1e-9, &format!("{what} raw"));
            let normalized = got.normalized_score.unwrap();
            assert_close(
                normalized,
                want.normalized,
                1e-6,
                &format!("{what} normalised"),
            );
            let c = got.counts;
            let counts = [
                c.true_positives,
                c.false_positives,
                c.false_negatives,
                c.true_negatives,
            ];
            assert_eq!(counts, want.counts, "{what} TP, FP, FN, TN");
            let file_sum: f64 = got.files.iter().map(|f| f.raw_score).sum();
            assert_close(file_sum, got.raw_score, 1e-12, &format!("{what} file sum"));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// M4

#[test]
fn m4_reader_drops_trailing_empty_cells() {
    let series = m4::read_series(&fixtures().join("m4/Hourly-train.csv")).unwrap();
    assert_eq!(series.len(), 2);
    assert_eq!(series[0].id, "H1");
    assert_eq!(series[0].values, [1.0, 2.0, 3.0, 4.0]);
    assert_eq!(series[1].values, [5.5, 6.0]);
}

#[test]
fn m4_benchmarks_match_published_hourly_results() {
    let Some(dir) = benchdata("m4") else {
        return;
    };
    let tasks = m4::load_hourly(&dir).unwrap();
    assert_eq!(tasks.len(), 414);
    let (period, horizon) = (m4::HOURLY_PERIOD, m4::HOURLY_HORIZON);

    // Published M4 hourly results (sMAPE / MASE / OWA): Naive2 18.383 / 2.395 / 1.000,
    // seasonal naive 13.912 / 1.193 / 0.627.
    let naive2: Vec<Vec<f64>> = tasks
        .iter()
        .map(|t| m4::naive2(&t.train, period, horizon))
        .collect();
    let naive2 = m4::evaluate(&tasks, &naive2, period).unwrap();
    assert_close(naive2.smape, 18.383, 0.001, "Naive2 sMAPE");
    assert_close(naive2.mase, 2.395, 0.001, "Naive2 MASE");

    let snaive: Vec<Vec<f64>> = tasks
        .iter()
        .map(|t| m4::seasonal_naive(&t.train, period, horizon))
        .collect();
    let snaive = m4::evaluate(&tasks, &snaive, period).unwrap();
    assert_close(snaive.smape, 13.912, 0.001, "seasonal naive sMAPE");
    assert_close(snaive.mase, 1.193, 0.001, "seasonal naive MASE");
    assert_close(m4::owa(snaive, naive2), 0.627, 0.001, "seasonal naive OWA");
}

// ---------------------------------------------------------------------------------------------
// TCPD

#[test]
fn tcpd_readers_and_scores_on_a_fixture() {
    let dir = fixtures().join("tcpd");
    let datasets = tcpd::load_datasets(&dir).unwrap();
    assert_eq!(datasets.len(), 1);
    let tiny = &datasets[0];
    assert_eq!((tiny.name.as_str(), tiny.n_obs), ("tiny", 6));
    assert!(tiny.is_multivariate());
    assert_eq!(tiny.missing(), 1);
    assert_eq!(tiny.series[0].values[2], None);

    let annotations = tcpd::load_annotations(&dir.join("annotations.json")).unwrap();
    // Annotators {0, 3} and {0, 3, 4}; prediction {0, 3}, n = 6.
    // Precision: union {0, 3, 4} against X = {0, 3}: 0 and 3 matched, 4 finds no unused
    // prediction: 2/2 = 1. Recall: 2/2 and 2/3, mean 5/6. F1 = 2 * (5/6) / (11/6) = 10/11.
    // Covering: first annotator equals the prediction (1). Second: [0,3) J 1; [3,4) vs [3,6)
    // J 1/3; [4,6) vs [3,6) J 2/3; C = (3 * 1 + 1 * 1/3 + 2 * 2/3) / 6 = (14/3) / 6 = 7/9.
    // Mean (1 + 7/9) / 2 = 8/9.
    let score = tcpd::score_dataset("tiny", &annotations["tiny"], &[3], tiny.n_obs).unwrap();
    assert_close(score.f1.precision, 1.0, 1e-12, "precision");
    assert_close(score.f1.recall, 5.0 / 6.0, 1e-12, "recall");
    assert_close(score.f1.f1, 10.0 / 11.0, 1e-12, "F1");
    assert_close(score.cover, 8.0 / 9.0, 1e-12, "cover");
}

#[test]
fn tcpd_reads_the_benchmark_datasets() {
    let Some(dir) = benchdata("tcpd") else {
        return;
    };
    let datasets = tcpd::load_datasets(&dir).unwrap();
    let annotations = tcpd::load_annotations(&dir.join("annotations.json")).unwrap();
    assert_eq!(datasets.len(), 32);
    for d in &datasets {
        let a = &annotations[&d.name];
        assert_eq!(a.len(), 5, "{}: five annotators", d.name);
        let zero = tcpd::score_dataset(&d.name, a, &[], d.n_obs).unwrap();
        assert!((0.0..=1.0).contains(&zero.cover) && (0.0..=1.0).contains(&zero.f1.f1));
    }
    let multivariate: Vec<&str> = datasets
        .iter()
        .filter(|d| d.is_multivariate())
        .map(|d| d.name.as_str())
        .collect();
    assert_eq!(multivariate, ["run_log"]);
    let coal = datasets
        .iter()
        .find(|d| d.name == "uk_coal_employ")
        .unwrap();
    assert_eq!((coal.n_obs, coal.missing()), (105, 2));
}
