//! `seer eval nab` end to end: the command line reproduces NAB's own scores for the published
//! detectors (when `../shared/benchdata` exists next to the crate), and seer's detector runs
//! on a generated corpus through the engine, writes NAB's results layout and reads it back
//! (always).

use std::path::{Path, PathBuf};
use std::process::Command;

use seer::eval::nab::{evaluate, NabEvalOptions};

fn benchdata_nab() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/benchdata/nab");
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

/// Runs the `seer` binary and parses its JSON output.
fn seer_json(args: &[&str]) -> serde_json::Value {
    let output = Command::new(env!("CARGO_BIN_EXE_seer"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "seer {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// Normalised scores from NAB's own scorer on the 31-file subset (reference_scores.md):
/// standard, reward_low_FP_rate, reward_low_FN_rate, with the thresholds it chose.
const REFERENCE: &[(&str, [(f64, f64); 3])] = &[
    (
        "numenta",
        [
            (0.543099145074, 69.519338),
            (0.575335555563, 62.883405),
            (0.543099145074, 74.019182),
        ],
    ),
    (
        "windowedGaussian",
        [
            (0.999999999999, 37.701082),
            (1.0, 32.721448),
            (0.999999999999, 40.857325),
        ],
    ),
    (
        "contextOSE",
        [
            (0.766433566434, 66.130330),
            (0.766433566434, 62.764461),
            (0.707192923899, 69.741442),
        ],
    ),
];

#[test]
fn cli_reproduces_reference_scores_of_published_detectors() {
    let Some(dir) = benchdata_nab() else {
        return;
    };
    for (detector, want) in REFERENCE {
        let results = dir.join("results").join(detector);
        let json = seer_json(&[
            "eval",
            "nab",
            "--data",
            dir.to_str().unwrap(),
            "--detector-scores",
            results.to_str().unwrap(),
            "--format",
            "json",
        ]);
        assert_eq!(json["detector"], *detector);
        assert_eq!(json["windows"], 53);
        assert_eq!(json["rows_scored"], 124_120);
        let profiles = json["profiles"].as_array().unwrap();
        let names: Vec<&str> = profiles
            .iter()
            .map(|p| p["profile"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            ["standard", "reward_low_FP_rate", "reward_low_FN_rate"]
        );
        for (profile, (threshold, normalised)) in profiles.iter().zip(want) {
            let what = format!("{detector} {}", profile["profile"]["name"]);
            assert_close(
                profile["threshold"].as_f64().unwrap(),
                *threshold,
                1e-9,
                &format!("{what} threshold"),
            );
            assert_close(
                profile["normalized_score"].as_f64().unwrap(),
                *normalised,
                1e-6,
                &format!("{what} normalised"),
            );
            assert_eq!(profile["files"].as_array().unwrap().len(), 31);
            assert!(profile["raw_score"].is_number());
        }
    }
}

/// A two-file corpus at five-minute steps: `cat/spike.csv` (a daily cycle with noise and one
/// large spike at row 2000, inside a window) and `cat/quiet.csv` (the same cycle with no
/// anomaly and no window). `quiet.csv` repeats one timestamp and steps back once, as some NAB
/// files do, to check that scores land on the right rows.
fn write_corpus(dir: &Path) {
    let start = 1_388_534_400_i64; // 2014-01-01T00:00:00Z
    let value = |i: usize| {
        let phase = 2.0 * std::f64::consts::PI * (i % 288) as f64 / 288.0;
        50.0 + 10.0 * phase.sin() + ((i * 7919) % 23) as f64 / 23.0
    };
    let stamp = |secs: i64| {
        let t = jiff::Timestamp::from_second(secs).unwrap();
        t.strftime("%Y-%m-%d %H:%M:%S").to_string()
    };
    let rows = 2600;
    std::fs::create_dir_all(dir.join("data/cat")).unwrap();
    std::fs::create_dir_all(dir.join("labels")).unwrap();

    let mut spike = String::from("timestamp,value\n");
    for i in 0..rows {
        let v = if i == 2000 { value(i) + 80.0 } else { value(i) };
        spike.push_str(&format!("{},{v}\n", stamp(start + 300 * i as i64)));
    }
    std::fs::write(dir.join("data/cat/spike.csv"), spike).unwrap();

    let mut quiet = String::from("timestamp,value\n");
    for i in 0..rows {
        let secs = match i {
            1000 => start + 300 * 999,        // a repeat of the previous row's time
            1500 => start + 300 * 1490 + 150, // a step back, to a time no other row has
            _ => start + 300 * i as i64,
        };
        quiet.push_str(&format!("{},{}\n", stamp(secs), value(i)));
    }
    std::fs::write(dir.join("data/cat/quiet.csv"), quiet).unwrap();

    let window = [
        stamp(start + 300 * 1870) + ".000000",
        stamp(start + 300 * 2129) + ".000000",
    ];
    let windows = serde_json::json!({"cat/spike.csv": [window], "cat/quiet.csv": []});
    std::fs::write(
        dir.join("labels/combined_windows.json"),
        windows.to_string(),
    )
    .unwrap();
}

#[test]
fn seer_runs_the_engine_on_a_corpus_and_writes_nab_results() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("corpus");
    write_corpus(&data);
    let out = tmp.path().join("results/seer");

    let mut options = NabEvalOptions::new(&data);
    options.out_dir = Some(out.clone());
    let run = evaluate(&options).unwrap();
    assert_eq!(run.detector, "seer");
    assert_eq!(run.report.files, 2);
    assert_eq!(run.report.windows, 1);
    assert_eq!(run.run.samples, 5200);
    assert!(run.run.samples_per_sec > 0.0);

    // The spike is caught at every profile's threshold, and nothing else is flagged: its score
    // is the novelty of a rare error, so the one spike stands alone.
    for profile in &run.report.profiles {
        let spike = &profile.files[1];
        assert_eq!(spike.file, "cat/spike.csv");
        assert!(spike.counts.true_positives >= 1, "{profile:?}");
        assert_eq!(profile.counts.false_positives, 0, "{profile:?}");
        assert!(profile.normalized_score.unwrap() > 90.0, "{profile:?}");
    }

    // Results in NAB's layout, one row per data row, scores in [0, 1].
    let text = std::fs::read_to_string(out.join("cat/seer_spike.csv")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "timestamp,value,anomaly_score");
    assert_eq!(lines.len(), 2601);
    let score_at = |line: &str| line.rsplit(',').next().unwrap().parse::<f64>().unwrap();
    let scores: Vec<f64> = lines[1..].iter().map(|l| score_at(l)).collect();
    assert!(scores.iter().all(|s| (0.0..=1.0).contains(s)));
    let peak = scores
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .unwrap()
        .0;
    assert_eq!(peak, 2000, "the highest score is at the spike's row");
    assert!(lines[2001].starts_with("2014-01-07 22:40:00,"));

    // The repeated row of quiet.csv is not judged (score 0); the stepped-back row is judged
    // in time order and its score stays on its own row.
    let quiet = std::fs::read_to_string(out.join("cat/seer_quiet.csv")).unwrap();
    let quiet: Vec<&str> = quiet.lines().skip(1).collect();
    assert_eq!(quiet.len(), 2600);
    assert_eq!(
        score_at(quiet[1000]),
        0.0,
        "duplicate timestamp: not judged"
    );

    // Scoring the written results reproduces the run's report.
    let mut reread = NabEvalOptions::new(&data);
    reread.detector_scores = Some(out);
    let reread = evaluate(&reread).unwrap();
    assert_eq!(reread.report, run.report);
}
