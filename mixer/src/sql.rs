//! SQL over sluice's outputs with DataFusion: every Parquet document folder (or file) is a table, typed
//! attribute columns included (`SELECT attr_language, count(*) FROM docs GROUP BY 1`).

use std::sync::Arc;

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl};
use datafusion::prelude::SessionContext;
use sluice_core::store::Location;

/// Errors of a query.
#[derive(Debug, thiserror::Error)]
pub enum SqlError {
    #[error("table '{name}' at {location}: {reason}")]
    Table { name: String, location: String, reason: String },
    #[error("query failed: {0}")]
    Query(#[from] datafusion::error::DataFusionError),
    #[error("{0}")]
    Core(#[from] sluice_core::Error),
}

/// A named table: a Parquet file or a folder (URL prefix) of them.
#[derive(Debug, Clone)]
pub struct TableSpec {
    pub name: String,
    pub location: String,
}

impl std::str::FromStr for TableSpec {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (name, location) = s.split_once('=').ok_or_else(|| format!("expected NAME=PATH, not '{s}'"))?;
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!("table name '{name}': letters, digits and _ only"));
        }
        Ok(TableSpec { name: name.to_string(), location: location.to_string() })
    }
}

/// Runs `query` with each table registered; returns the result batches.
pub fn query(tables: &[TableSpec], query: &str) -> Result<Vec<RecordBatch>, SqlError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| sluice_core::Error::io("the query runtime", e))?;
    runtime.block_on(async {
        let context = SessionContext::new();
        for table in tables {
            register(&context, table).await?;
        }
        let frame = context.sql(query).await?;
        Ok(frame.collect().await?)
    })
}

/// Registers a Parquet file or folder as a table. sluice's bookkeeping (`_manifests`, `_stats.json`, …)
/// is not Parquet and is left out by the `.parquet` extension; files of one stage with different typed
/// attribute columns are read with the union of their schemas.
async fn register(context: &SessionContext, table: &TableSpec) -> Result<(), SqlError> {
    let location = Location::parse(&table.location)?;
    let bad = |reason: String| SqlError::Table { name: table.name.clone(), location: table.location.clone(), reason };
    let url = match location.local_path() {
        Some(path) if path.is_dir() => format!("file://{}/", path.display()),
        Some(path) => format!("file://{}", path.display()),
        None => {
            let (store, _) = location.object_store();
            let url = url::Url::parse(&table.location).map_err(|e| bad(e.to_string()))?;
            let root = url::Url::parse(&format!("{}://{}", url.scheme(), url.host_str().unwrap_or("")))
                .map_err(|e| bad(e.to_string()))?;
            context.register_object_store(&root, store);
            let text = table.location.trim_end_matches('/').to_string();
            if text.ends_with(".parquet") {
                text
            } else {
                format!("{text}/")
            }
        }
    };
    let table_url = ListingTableUrl::parse(&url).map_err(|e| bad(e.to_string()))?;
    let options = ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(".parquet");
    let state = context.state();
    let schema = options.infer_schema(&state, &table_url).await.map_err(|e| bad(e.to_string()))?;
    let config = ListingTableConfig::new(table_url).with_listing_options(options).with_schema(schema);
    let provider = ListingTable::try_new(config).map_err(|e| bad(e.to_string()))?;
    context.register_table(table.name.as_str(), Arc::new(provider)).map_err(|e| bad(e.to_string()))?;
    Ok(())
}

/// The batches as an aligned text table (what `sluice sql` prints).
pub fn pretty(batches: &[RecordBatch]) -> Result<String, SqlError> {
    Ok(datafusion::arrow::util::pretty::pretty_format_batches(batches)
        .map_err(datafusion::error::DataFusionError::from)?
        .to_string())
}

/// The batches as JSON lines (`sluice sql --json`).
pub fn json_lines(batches: &[RecordBatch]) -> Result<String, SqlError> {
    let mut writer = datafusion::arrow::json::LineDelimitedWriter::new(Vec::new());
    for batch in batches {
        writer.write(batch).map_err(datafusion::error::DataFusionError::from)?;
    }
    writer.finish().map_err(datafusion::error::DataFusionError::from)?;
    Ok(String::from_utf8_lossy(&writer.into_inner()).into_owned())
}
