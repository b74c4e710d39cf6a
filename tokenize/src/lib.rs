//! sluice-tokenize: documents to shuffled token shards.
//!
//! This crate will tokenize documents with HF `tokenizers` (GPT-NeoX-20B by default) and write shuffled
//! fixed-length contexts in the OpenLM/DCLM webdataset layout and a compact binary format, with manifests.
//! Not built yet.
