//! `harness tpch-gen`: the eight TPC-H tables written as files, with the `tpchgen` crate (rows
//! identical to dbgen's).
//!
//! Two layouts, both readable by our file_fdw and by PostgreSQL's:
//! - `tbl` (default): dbgen's `|`-separated rows **without dbgen's trailing `|`**, read with
//!   `format 'text', delimiter '|'`. COPY's text format (hence both file_fdws) rejects the
//!   trailing delimiter ("extra data after last expected column"), so we drop it while
//!   writing instead of adding a dummy column. TPC-H text holds no backslash, so COPY's text
//!   escapes never trigger;
//! - `csv`: comma-separated, text columns quoted (`tpchgen`'s CSV writer), no header line,
//!   read with `format 'csv'`.
//!
//! A `.complete` marker written last (scale factor and layout) lets the benchmark reuse a
//! directory generated earlier.

use std::fmt::Display;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tpchgen::csv::{CustomerCsv, LineItemCsv, NationCsv, OrderCsv, PartCsv, PartSuppCsv, RegionCsv, SupplierCsv};
use tpchgen::generators::{
    CustomerGenerator, LineItemGenerator, NationGenerator, OrderGenerator, PartGenerator, PartSuppGenerator,
    RegionGenerator, SupplierGenerator,
};

use super::TABLES;

/// The layout of the generated files.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum FileFormat {
    /// `|`-separated, no trailing `|` (file_fdw `format 'text', delimiter '|'`).
    Tbl,
    /// Comma-separated with quoted text (file_fdw `format 'csv'`).
    Csv,
}

impl FileFormat {
    /// The file name extension (`lineitem.tbl`, `lineitem.csv`).
    pub fn extension(self) -> &'static str {
        match self {
            FileFormat::Tbl => "tbl",
            FileFormat::Csv => "csv",
        }
    }

    /// The file_fdw (and COPY) options reading this layout.
    pub fn copy_options(self) -> &'static str {
        match self {
            FileFormat::Tbl => "format 'text', delimiter '|'",
            FileFormat::Csv => "format 'csv'",
        }
    }
}

/// The path of `table`'s file in `dir`.
pub fn table_path(dir: &Path, table: &str, format: FileFormat) -> PathBuf {
    dir.join(format!("{table}.{}", format.extension()))
}

const MARKER: &str = ".complete";

fn marker_text(sf: f64, format: FileFormat) -> String {
    format!("sf={sf} format={}\n", format.extension())
}

/// True when `dir` holds a complete generation of this scale factor and layout.
pub fn is_generated(dir: &Path, sf: f64, format: FileFormat) -> bool {
    std::fs::read_to_string(dir.join(MARKER)).is_ok_and(|m| m == marker_text(sf, format))
}

/// The layout of the files in `dir` (whichever of `lineitem.tbl` / `lineitem.csv` exists).
pub fn detect_format(dir: &Path) -> anyhow::Result<FileFormat> {
    for f in [FileFormat::Tbl, FileFormat::Csv] {
        if table_path(dir, "lineitem", f).exists() {
            return Ok(f);
        }
    }
    anyhow::bail!("{} holds no lineitem.tbl or lineitem.csv (run harness tpch-gen first)", dir.display())
}

/// Writes the eight tables at scale factor `sf` into `dir` (created if missing), with a
/// progress bar on stderr when it is a terminal.
pub fn generate(sf: f64, dir: &Path, format: FileFormat) -> anyhow::Result<()> {
    anyhow::ensure!(sf > 0.0 && sf.is_finite(), "the scale factor must be positive, got {sf}");
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let _ = std::fs::remove_file(dir.join(MARKER));
    let draw =
        if std::io::stderr().is_terminal() { ProgressDrawTarget::stderr() } else { ProgressDrawTarget::hidden() };
    let bar = ProgressBar::with_draw_target(Some(0), draw);
    bar.set_style(
        ProgressStyle::with_template("{prefix:>9} [{bar:40}] {human_pos}/{human_len} rows ({per_sec}, {eta})")
            .context("progress bar template")?
            .progress_chars("=> "),
    );
    for table in TABLES {
        bar.set_prefix(table);
        bar.set_position(0);
        bar.set_length(estimated_rows(table, sf));
        let path = table_path(dir, table, format);
        write_table(&path, table, sf, format, &bar).with_context(|| format!("writing {}", path.display()))?;
    }
    bar.finish_and_clear();
    std::fs::write(dir.join(MARKER), marker_text(sf, format))?;
    Ok(())
}

/// Row count of a table (lineitem's is an estimate: four lines per order on average).
fn estimated_rows(table: &str, sf: f64) -> u64 {
    let n = match table {
        "region" => 5,
        "nation" => 25,
        "part" => PartGenerator::calculate_row_count(sf, 1, 1),
        "supplier" => SupplierGenerator::calculate_row_count(sf, 1, 1),
        "partsupp" => 4 * PartSuppGenerator::calculate_row_count(sf, 1, 1),
        "customer" => CustomerGenerator::calculate_row_count(sf, 1, 1),
        "orders" => OrderGenerator::calculate_row_count(sf, 1, 1),
        _ => 4 * OrderGenerator::calculate_row_count(sf, 1, 1),
    };
    u64::try_from(n).unwrap_or(0)
}

fn write_table(path: &Path, table: &str, sf: f64, format: FileFormat, bar: &ProgressBar) -> anyhow::Result<()> {
    let file = std::fs::File::create(path)?;
    let mut out = RowWriter { w: std::io::BufWriter::with_capacity(1 << 20, file), line: String::new(), format, bar };
    let csv = format == FileFormat::Csv;
    match table {
        "region" => {
            let g = RegionGenerator::new(sf, 1, 1);
            if csv {
                out.rows(g.iter().map(RegionCsv::new))
            } else {
                out.rows(g.iter())
            }
        }
        "nation" => {
            let g = NationGenerator::new(sf, 1, 1);
            if csv {
                out.rows(g.iter().map(NationCsv::new))
            } else {
                out.rows(g.iter())
            }
        }
        "part" => {
            let g = PartGenerator::new(sf, 1, 1);
            if csv {
                out.rows(g.iter().map(PartCsv::new))
            } else {
                out.rows(g.iter())
            }
        }
        "supplier" => {
            let g = SupplierGenerator::new(sf, 1, 1);
            if csv {
                out.rows(g.iter().map(SupplierCsv::new))
            } else {
                out.rows(g.iter())
            }
        }
        "partsupp" => {
            let g = PartSuppGenerator::new(sf, 1, 1);
            if csv {
                out.rows(g.iter().map(PartSuppCsv::new))
            } else {
                out.rows(g.iter())
            }
        }
        "customer" => {
            let g = CustomerGenerator::new(sf, 1, 1);
            if csv {
                out.rows(g.iter().map(CustomerCsv::new))
            } else {
                out.rows(g.iter())
            }
        }
        "orders" => {
            let g = OrderGenerator::new(sf, 1, 1);
            if csv {
                out.rows(g.iter().map(OrderCsv::new))
            } else {
                out.rows(g.iter())
            }
        }
        "lineitem" => {
            let g = LineItemGenerator::new(sf, 1, 1);
            if csv {
                out.rows(g.iter().map(LineItemCsv::new))
            } else {
                out.rows(g.iter())
            }
        }
        other => anyhow::bail!("unknown TPC-H table {other}"),
    }?;
    out.w.flush()?;
    Ok(())
}

/// Writes rows one per line, reusing one line buffer.
struct RowWriter<'a, W: Write> {
    w: W,
    line: String,
    format: FileFormat,
    bar: &'a ProgressBar,
}

impl<W: Write> RowWriter<'_, W> {
    fn rows<T: Display>(&mut self, rows: impl Iterator<Item = T>) -> anyhow::Result<()> {
        use std::fmt::Write as _;
        let mut count = 0u64;
        for row in rows {
            self.line.clear();
            write!(self.line, "{row}")?;
            if self.format == FileFormat::Tbl {
                // dbgen's rows end with the delimiter; see the module comment.
                let trimmed = self.line.strip_suffix('|').map_or(self.line.len(), str::len);
                self.line.truncate(trimmed);
            }
            self.line.push('\n');
            self.w.write_all(self.line.as_bytes())?;
            count += 1;
            if count.is_multiple_of(8192) {
                self.bar.inc(8192);
            }
        }
        self.bar.set_position(count);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tbl_rows_have_no_trailing_delimiter_and_csv_quotes_text() {
        let dir = tempfile::tempdir().unwrap();
        generate(0.001, dir.path(), FileFormat::Tbl).unwrap();
        let nation = std::fs::read_to_string(table_path(dir.path(), "nation", FileFormat::Tbl)).unwrap();
        assert_eq!(nation.lines().count(), 25);
        assert!(nation.starts_with("0|ALGERIA|0| haggle. carefully final deposits detect slyly agai\n"), "{nation}");
        assert!(is_generated(dir.path(), 0.001, FileFormat::Tbl));
        assert!(!is_generated(dir.path(), 0.01, FileFormat::Tbl));
        assert_eq!(detect_format(dir.path()).unwrap(), FileFormat::Tbl);
        let lineitem = std::fs::read_to_string(table_path(dir.path(), "lineitem", FileFormat::Tbl)).unwrap();
        assert!(lineitem.lines().all(|l| l.split('|').count() == 16 && !l.contains('\\')));

        let csv_dir = tempfile::tempdir().unwrap();
        generate(0.001, csv_dir.path(), FileFormat::Csv).unwrap();
        let region = std::fs::read_to_string(table_path(csv_dir.path(), "region", FileFormat::Csv)).unwrap();
        assert!(region.starts_with("0,AFRICA,\""), "{region}");
        assert_eq!(detect_format(csv_dir.path()).unwrap(), FileFormat::Csv);
    }
}
