//! `sluice sql "SELECT …" --table name=PATH`: SQL (DataFusion) over any Parquet output — documents with
//! their typed attribute columns, or several stages side by side.

use anyhow::{bail, Result};
use clap::Args;
use sluice_mixer::sql::{json_lines, pretty, query, TableSpec};

#[derive(Debug, Args)]
pub struct SqlArgs {
    /// The query, e.g. `SELECT attr_language, count(*) FROM docs GROUP BY 1 ORDER BY 2 DESC`.
    pub query: String,
    /// A table: NAME=PATH, PATH a Parquet file or a folder (or URL prefix) of them; repeat for several.
    /// Default: `docs` for the one folder given with --docs.
    #[arg(short, long = "table", value_name = "NAME=PATH")]
    pub tables: Vec<TableSpec>,
    /// Shorthand for `--table docs=PATH`.
    #[arg(long, value_name = "PATH")]
    pub docs: Option<String>,
    /// Print JSON lines instead of a table.
    #[arg(long)]
    pub json: bool,
}

pub fn sql(args: &SqlArgs) -> Result<()> {
    let mut tables = args.tables.clone();
    if let Some(docs) = &args.docs {
        tables.push(TableSpec { name: "docs".into(), location: docs.clone() });
    }
    if tables.is_empty() {
        bail!("name at least one table: --table NAME=PATH (or --docs PATH)");
    }
    let batches = query(&tables, &args.query)?;
    if args.json {
        print!("{}", json_lines(&batches)?);
    } else {
        println!("{}", pretty(&batches)?);
    }
    Ok(())
}
