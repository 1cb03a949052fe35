//! The `seer` command line: parses arguments and calls the library.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use seer::series::Labels;

/// Streaming anomaly detection and forecasting for Prometheus metrics.
#[derive(Debug, Parser)]
#[command(name = "seer", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Feed history through the detectors with event time and print the alerts.
    ///
    /// With no files it replays the bundled data/ with models/default.yaml.
    Replay(ReplayArgs),
    /// Validate rule files; prints every problem with file, line, key and value.
    Check {
        /// Rule files to check.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Convert a two-column CSV (timestamp,value) into seer's long Parquet format.
    Convert {
        /// The CSV file.
        input: PathBuf,
        /// Metric name of the series.
        #[arg(long)]
        metric: String,
        /// Extra label of the series, as name=value (repeatable).
        #[arg(long = "label", value_parser = parse_label)]
        labels: Vec<(String, String)>,
        /// Output Parquet file.
        #[arg(long, short)]
        out: PathBuf,
    },
    /// Score models on public benchmarks.
    #[command(subcommand)]
    Eval(EvalCommand),
}

#[derive(Debug, Subcommand)]
enum EvalCommand {
    /// Fit every M4 hourly series, forecast 48 steps, report sMAPE, MASE, OWA and fit times.
    M4 {
        /// Directory with Hourly-train.csv and Hourly-test.csv.
        #[arg(long)]
        data: PathBuf,
        /// Model: sarima, prophet, seasonal or snaive.
        #[arg(long, default_value = "sarima")]
        model: seer::eval::m4_run::M4Model,
        /// Output format: table or json.
        #[arg(long, default_value = "table", value_parser = ["table", "json"])]
        format: String,
    },
}

#[derive(Debug, clap::Args)]
struct ReplayArgs {
    /// History files: seer Parquet (.parquet) or timestamp,value CSV (.csv). Directories are
    /// searched for both. Default: data/.
    files: Vec<PathBuf>,
    /// Rule file. Default: models/default.yaml.
    #[arg(long)]
    rules: Option<PathBuf>,
    /// Alertmanager base URL to send alerts to (repeatable).
    #[arg(long = "alertmanager")]
    alertmanagers: Vec<String>,
    /// Write alert notifications as NDJSON to this file instead of stdout.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print every notification, resends included (default: firing and resolved transitions).
    #[arg(long)]
    all_notifications: bool,
    /// Metric name for CSV inputs (default: the file name without extension).
    #[arg(long)]
    metric: Option<String>,
    /// Label for CSV inputs, as name=value (repeatable).
    #[arg(long = "label", value_parser = parse_label)]
    labels: Vec<(String, String)>,
}

fn parse_label(text: &str) -> Result<(String, String), String> {
    let (k, v) = text
        .split_once('=')
        .ok_or_else(|| format!("{text:?} is not name=value"))?;
    if !Labels::valid_name(k) {
        return Err(format!("{k:?} is not a valid label name"));
    }
    Ok((k.to_string(), v.trim_matches('"').to_string()))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Replay(args) => replay(args),
        Command::Check { files } => check(&files),
        Command::Convert {
            input,
            metric,
            labels,
            out,
        } => convert(&input, &metric, labels, &out),
        Command::Eval(EvalCommand::M4 {
            data,
            model,
            format,
        }) => eval_m4(&data, model, &format),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn convert(
    input: &std::path::Path,
    metric: &str,
    labels: Vec<(String, String)>,
    out: &std::path::Path,
) -> anyhow::Result<ExitCode> {
    if !Labels::valid_metric_name(metric) {
        anyhow::bail!("--metric {metric:?} is not a valid metric name");
    }
    let labels = Labels::with_metric(metric, labels);
    let batch = seer::ingest::read_csv(input, &labels)?;
    seer::ingest::write_parquet(out, std::slice::from_ref(&batch))
        .with_context(|| format!("writing {}", out.display()))?;
    eprintln!(
        "wrote {} samples of {} to {}",
        batch.len(),
        labels,
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn eval_m4(
    data: &std::path::Path,
    model: seer::eval::m4_run::M4Model,
    format: &str,
) -> anyhow::Result<ExitCode> {
    let report = seer::eval::m4_run::run(data, model)?;
    if format == "json" {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{report}");
    }
    Ok(ExitCode::SUCCESS)
}

fn check(files: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let report = seer::rules::check(files);
    print!("{report}");
    let errors = report.errors().count();
    let warnings = report.warnings().count();
    println!(
        "{} file(s), {} rule(s): {errors} error(s), {warnings} warning(s)",
        report.files, report.rules
    );
    Ok(if report.has_errors() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn replay(args: ReplayArgs) -> anyhow::Result<ExitCode> {
    use seer::alert::{AlertmanagerConfig, AlertmanagerSink, NdjsonSink, Sink};
    use seer::replay::{CsvNaming, Delivery};

    let rules_path = args
        .rules
        .unwrap_or_else(|| PathBuf::from("models/default.yaml"));
    let rules = seer::rules::load(&rules_path)?;
    for warning in &rules.warnings {
        eprintln!("{warning}");
    }
    let inputs = if args.files.is_empty() {
        vec![PathBuf::from("data")]
    } else {
        args.files
    };
    let files = seer::replay::expand_inputs(&inputs)?;
    let csv = CsvNaming {
        metric: args.metric,
        labels: args.labels,
    };

    let delivery = if args.all_notifications {
        Delivery::All
    } else {
        Delivery::Transitions
    };
    let mut ndjson: NdjsonSink<Box<dyn std::io::Write>> = match &args.out {
        Some(path) => {
            let file = std::fs::File::create(path)
                .with_context(|| format!("creating {}", path.display()))?;
            NdjsonSink::new(
                Box::new(std::io::BufWriter::new(file)),
                path.display().to_string(),
            )
        }
        None => NdjsonSink::new(Box::new(std::io::stdout().lock()), "stdout"),
    };
    let mut alertmanager = if args.alertmanagers.is_empty() {
        None
    } else {
        let config = AlertmanagerConfig::new(args.alertmanagers.clone());
        config.validate("--alertmanager")?;
        Some(AlertmanagerSink::new(config)?)
    };
    let mut sinks: Vec<(&mut dyn Sink, Delivery)> = vec![(&mut ndjson, delivery)];
    if let Some(am) = alertmanager.as_mut() {
        sinks.push((am, Delivery::All));
    }

    let options = seer::engine::EngineOptions::default();
    let summary = seer::replay::run(&files, &csv, &rules, options, &mut sinks)?;
    drop(sinks);
    drop(ndjson);
    eprintln!();
    eprint!("{summary}");
    Ok(ExitCode::SUCCESS)
}
