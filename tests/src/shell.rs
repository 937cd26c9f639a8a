//! The `sql` command: runs SQL from `-c`, `-f`, a pipe, or an interactive prompt, printing
//! results as psql does.
//!
//! What goes where mirrors `psql -v ON_ERROR_STOP=1`: results and command tags on stdout,
//! `NOTICE:` and `ERROR:` lines on stderr, and the first failing statement of a non-interactive
//! run stops it (the caller exits with status 1). A `-c` string is handed to the session whole
//! (as psql sends it in one message); scripts are split client-side at `;` so each
//! statement's output appears before the next one runs. The interactive prompt keeps going
//! after errors.

use std::io::Write;
use std::path::Path;

use envelope::{Error, QueryResult, Session};

use crate::format::{format_error, format_notice, format_result, Format};
use crate::split::{is_blank, split_statements};

/// Runs statements on one session and prints their outcome.
pub struct Shell<O: Write, E: Write> {
    pub session: Session,
    pub format: Format,
    pub out: O,
    pub err: E,
}

/// Whether a run went through or stopped at an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Failed,
}

impl<O: Write, E: Write> Shell<O, E> {
    pub fn new(session: Session, format: Format, out: O, err: E) -> Self {
        Shell { session, format, out, err }
    }

    /// Runs one `-c` string: all its statements as one batch, printing each result.
    pub fn run_command(&mut self, sql: &str) -> Outcome {
        let results = self.session.execute_batch(sql);
        let mut outcome = Outcome::Ok;
        for r in results {
            if self.report(r) == Outcome::Failed {
                outcome = Outcome::Failed;
                break;
            }
        }
        outcome
    }

    /// Runs a script statement by statement, stopping at the first error. A final statement
    /// without `;` runs too.
    pub fn run_script(&mut self, text: &str) -> Outcome {
        let split = split_statements(text);
        let tail = (!is_blank(&split.rest)).then(|| split.rest.trim().to_string());
        for stmt in split.statements.iter().chain(tail.iter()) {
            if self.run_statement(stmt) == Outcome::Failed {
                return Outcome::Failed;
            }
        }
        Outcome::Ok
    }

    /// Runs one statement and prints its outcome.
    pub fn run_statement(&mut self, sql: &str) -> Outcome {
        let mut outcome = Outcome::Ok;
        for r in self.session.execute_batch(sql) {
            if self.report(r) == Outcome::Failed {
                outcome = Outcome::Failed;
            }
        }
        outcome
    }

    /// Prints one statement's result (or error) where psql would.
    pub fn report(&mut self, result: Result<QueryResult, Error>) -> Outcome {
        match result {
            Ok(r) => {
                if !r.notices.is_empty() {
                    let _ = self.out.flush();
                    for n in &r.notices {
                        let _ = self.err.write_all(format_notice(n).as_bytes());
                    }
                    let _ = self.err.flush();
                }
                let _ = self.out.write_all(format_result(&r, self.format).as_bytes());
                let _ = self.out.flush();
                Outcome::Ok
            }
            Err(e) => {
                let _ = self.out.flush();
                let _ = self.err.write_all(format_error(&e).as_bytes());
                let _ = self.err.flush();
                Outcome::Failed
            }
        }
    }

    /// The interactive prompt: `envelope=> `, multi-line statements until `;`, `\q` quits.
    /// History is kept in `history` across runs.
    pub fn interactive(&mut self, history: &Path) -> anyhow::Result<()> {
        use rustyline::error::ReadlineError;
        let mut editor = rustyline::DefaultEditor::new()?;
        let _ = editor.load_history(history); // absent on the first run
        let mut buffer = String::new();
        loop {
            let prompt = if is_blank(&buffer) { "envelope=> " } else { "envelope-> " };
            let line = match editor.readline(prompt) {
                Ok(line) => line,
                Err(ReadlineError::Interrupted) => {
                    buffer.clear();
                    continue;
                }
                Err(ReadlineError::Eof) => break,
                Err(e) => return Err(e.into()),
            };
            let trimmed = line.trim();
            if is_blank(&buffer) && trimmed.starts_with('\\') {
                let _ = editor.add_history_entry(trimmed);
                if !self.meta_command(trimmed) {
                    break;
                }
                buffer.clear();
                continue;
            }
            buffer.push_str(&line);
            buffer.push('\n');
            let split = split_statements(&buffer);
            if split.statements.is_empty() {
                continue;
            }
            let _ = editor.add_history_entry(buffer.trim_end());
            for stmt in &split.statements {
                self.run_statement(stmt);
            }
            buffer = if is_blank(&split.rest) { String::new() } else { split.rest.trim_start().to_string() };
        }
        if let Err(e) = editor.save_history(history) {
            eprintln!("could not save history to {}: {e}", history.display());
        }
        Ok(())
    }

    /// Runs a backslash command; returns false to quit.
    fn meta_command(&mut self, cmd: &str) -> bool {
        let mut words = cmd.split_whitespace();
        match words.next().unwrap_or("") {
            "\\q" => return false,
            "\\d" => {
                let sql = match words.next() {
                    None => "SELECT table_schema AS \"Schema\", table_name AS \"Name\", table_type AS \"Type\" \
                             FROM information_schema.tables \
                             WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2"
                        .to_string(),
                    Some(t) => format!(
                        "SELECT column_name AS \"Column\", data_type AS \"Type\" FROM information_schema.columns \
                         WHERE table_name = '{}' ORDER BY ordinal_position",
                        t.replace('\'', "''")
                    ),
                };
                self.run_statement(&sql);
            }
            other => {
                let _ = writeln!(self.err, "invalid command {other}\nTry \\q to quit, \\d [table] to describe.");
            }
        }
        true
    }
}
