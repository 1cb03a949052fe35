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
    /// Write synthetic history with known ground truth (disks, memory pools, request rates).
    Generate {
        /// Number of series (disk, memory and traffic series in a 4:3:3 mix).
        #[arg(long, default_value_t = 100)]
        series: usize,
        /// Days of history, ending now (or at --end).
        #[arg(long, default_value_t = 30)]
        days: u32,
        /// Sample spacing, as a Prometheus duration.
        #[arg(long, default_value = "5m", value_parser = parse_duration_arg)]
        step: i64,
        /// Time of the last sample (RFC 3339); default: now.
        #[arg(long)]
        end: Option<String>,
        /// Seed of the generator; the same seed gives the same history.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Output directory (history-NNNNN.parquet and truth.parquet).
        #[arg(long, short)]
        out: PathBuf,
    },
    /// Run the detector service: Prometheus remote_write in, alerts out to Alertmanager.
    ///
    /// With no arguments it runs models/default.yaml on 127.0.0.1:9977. Flags override the
    /// config file.
    Serve(ServeArgs),
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
    /// Score detectors on public benchmarks, on the same code path the service runs.
    Eval {
        #[command(subcommand)]
        command: EvalCommand,
    },
}

#[derive(Debug, Subcommand)]
enum EvalCommand {
    /// Numenta Anomaly Benchmark: run seer's anomaly detection over every corpus file (or read
    /// a detector's results) and score it with NAB's rules.
    Nab(NabArgs),
    /// Batch change-point detection on the Turing Change Point Dataset (F1 margin 5, covering).
    Tcpd {
        /// The TCPD folder: datasets/<name>/<name>.json and annotations.json.
        #[arg(long)]
        data: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
        format: OutputFormat,
    },
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
struct NabArgs {
    /// The corpus folder: labels/combined_windows.json, data/<category>/<file>.csv and
    /// optionally config/profiles.json.
    #[arg(long)]
    data: PathBuf,
    /// Score this detector's results (NAB's results/<detector>/ layout) instead of running seer.
    #[arg(long)]
    detector_scores: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    format: OutputFormat,
    /// Write seer's per-row scores here, one timestamp,value,anomaly_score file per input.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Rule file to run instead of the built-in benchmark rule.
    #[arg(long)]
    rules: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum OutputFormat {
    Table,
    Json,
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

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Configuration file (YAML); every key is optional.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Address to listen on, such as 127.0.0.1:9977.
    #[arg(long)]
    listen: Option<String>,
    /// Rule file or directory (repeatable).
    #[arg(long)]
    rules: Vec<PathBuf>,
    /// Alertmanager base URL (repeatable); replaces the file's alertmanager.urls.
    #[arg(long = "alertmanager")]
    alertmanagers: Vec<String>,
    /// Directory for checkpoints and the alert spool.
    #[arg(long)]
    state_dir: Option<PathBuf>,
    /// History files (seer Parquet or CSV) to learn from before serving.
    #[arg(long, num_args = 1..)]
    history: Vec<PathBuf>,
    /// Prometheus base URL to backfill the rules' series from.
    #[arg(long)]
    backfill_url: Option<String>,
    /// How far back to backfill, as a Prometheus duration (default 14d).
    #[arg(long)]
    backfill_window: Option<String>,
    /// Log format: json, text or auto (text on a terminal).
    #[arg(long, value_parser = parse_log_format)]
    log_format: Option<seer::serve::LogFormat>,
}

fn parse_log_format(text: &str) -> Result<seer::serve::LogFormat, String> {
    match text {
        "json" => Ok(seer::serve::LogFormat::Json),
        "text" => Ok(seer::serve::LogFormat::Text),
        "auto" => Ok(seer::serve::LogFormat::Auto),
        _ => Err(format!("{text:?} is not json, text or auto")),
    }
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

fn parse_duration_arg(text: &str) -> Result<i64, String> {
    seer::time::parse_duration(text)
        .filter(|ms| *ms > 0)
        .ok_or_else(|| format!("{text:?} is not a positive duration such as 30s, 5m or 1h"))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Replay(args) => replay(args),
        Command::Check { files } => check(&files),
        Command::Serve(args) => serve(args),
        Command::Convert {
            input,
            metric,
            labels,
            out,
        } => convert(&input, &metric, labels, &out),
        Command::Generate {
            series,
            days,
            step,
            end,
            seed,
            out,
        } => generate(series, days, step, end, seed, &out),
        Command::Eval {
            command: EvalCommand::Nab(args),
        } => eval_nab(args),
        Command::Eval {
            command: EvalCommand::Tcpd { data, format },
        } => eval_tcpd(&data, format),
        Command::Eval {
            command:
                EvalCommand::M4 {
                    data,
                    model,
                    format,
                },
        } => eval_m4(&data, model, &format),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let overrides = seer::serve::Overrides {
        config: args.config,
        listen: args.listen,
        rules: args.rules,
        alertmanagers: args.alertmanagers,
        state_dir: args.state_dir,
        history: args.history,
        backfill_url: args.backfill_url,
        backfill_window: args.backfill_window,
        log_format: args.log_format,
    };
    seer::serve::run(&overrides)?;
    Ok(ExitCode::SUCCESS)
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

fn generate(
    series: usize,
    days: u32,
    step_ms: i64,
    end: Option<String>,
    seed: u64,
    out: &std::path::Path,
) -> anyhow::Result<ExitCode> {
    let end_ms = match end {
        Some(text) => seer::time::parse_timestamp(&text)
            .with_context(|| format!("--end {text:?} is not a timestamp"))?,
        None => jiff::Timestamp::now().as_millisecond(),
    };
    let config = seer::generate::GenerateConfig {
        series,
        days,
        step_ms,
        end_ms,
        seed,
    };
    let started = std::time::Instant::now();
    let generated = seer::generate::generate(&config, out)?;
    eprintln!(
        "wrote {} samples of {series} series in {} files and {} ({:.1} s)",
        generated.samples,
        generated.files.len(),
        generated.truth_file.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

fn eval_nab(args: NabArgs) -> anyhow::Result<ExitCode> {
    let rules = match &args.rules {
        Some(path) => Some(seer::rules::load(path)?),
        None => None,
    };
    let options = seer::eval::nab::NabEvalOptions {
        data_dir: args.data,
        detector_scores: args.detector_scores,
        rules,
        out_dir: args.out,
    };
    let evaluation = seer::eval::nab::evaluate(&options)?;
    match args.format {
        OutputFormat::Table => print!("{evaluation}"),
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&evaluation)?),
    }
    Ok(ExitCode::SUCCESS)
}

fn eval_tcpd(data: &std::path::Path, format: OutputFormat) -> anyhow::Result<ExitCode> {
    let config = seer::models::changepoint::BatchConfig::default();
    let report = seer::eval::tcpd_run::run(data, config)?;
    match format {
        OutputFormat::Table => print!("{report}"),
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&report)?),
    }
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
