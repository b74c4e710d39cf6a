//! List files (ban lists, TLD lists) that steps name in a recipe: a file on disk, or one of DCLM's lists
//! compiled into sluice (see `banlists/README.md`).
//!
//! A recipe that names DCLM's own path for one of its lists (`baselines/mappers/banlists/…`,
//! `baselines/mappers/iana_tlds.txt`) gets the bundled copy when no file exists at that path, so DCLM's
//! yamls run unchanged. Every other path is the user's file: if it cannot be read, that is an error naming
//! it, never a quiet switch to a bundled list.

use std::path::Path;

use crate::error::FilterError;

/// DCLM's lists, compiled in, by the path DCLM's yamls give them.
const BUNDLED_LISTS: [(&str, &str); 4] = [
    (
        "baselines/mappers/banlists/refinedweb_banned_words_strict_reverse_engineered.txt",
        include_str!("../banlists/refinedweb_banned_words_strict_reverse_engineered.txt"),
    ),
    (
        "baselines/mappers/banlists/refinedweb_banned_words_hard_reverse_engineered.txt",
        include_str!("../banlists/refinedweb_banned_words_hard_reverse_engineered.txt"),
    ),
    (
        "baselines/mappers/banlists/refinedweb_banned_words_soft_reverse_engineered.txt",
        include_str!("../banlists/refinedweb_banned_words_soft_reverse_engineered.txt"),
    ),
    ("baselines/mappers/iana_tlds.txt", include_str!("../banlists/iana_tlds.txt")),
];

/// Where a list named `path` comes from.
enum Source {
    Bundled(&'static str),
    File,
}

fn source(path: &str) -> Source {
    // A DCLM path inside a DCLM checkout (relative or absolute) is read from there.
    let bundled = BUNDLED_LISTS
        .iter()
        .find(|(dclm_path, _)| path == *dclm_path || path.strip_suffix(dclm_path).is_some_and(|p| p.ends_with('/')));
    match bundled {
        Some((_, text)) if !Path::new(path).exists() => Source::Bundled(text),
        _ => Source::File,
    }
}

/// The file a list named `path` is read from, or `None` for a bundled list.
pub(crate) fn referenced_file(path: &str) -> Option<String> {
    match source(path) {
        Source::Bundled(_) => None,
        Source::File => Some(path.to_string()),
    }
}

/// The lines of the list named `path` (for `step`'s error messages).
pub(crate) fn read_lines(step: &'static str, path: &str) -> Result<Vec<String>, FilterError> {
    let text = match source(path) {
        Source::Bundled(text) => text.to_string(),
        Source::File => std::fs::read_to_string(path).map_err(|source| FilterError::ListFile {
            step,
            path: path.to_string(),
            source,
        })?,
    };
    // DCLM reads its lists with `f.read().splitlines()` over files with `\n` line ends.
    Ok(text.lines().map(str::to_string).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dclm_paths_get_the_bundled_lists_and_other_paths_must_exist() {
        let strict = "baselines/mappers/banlists/refinedweb_banned_words_strict_reverse_engineered.txt";
        assert!(read_lines("t", strict).unwrap().len() > 100);
        assert_eq!(referenced_file(strict), None);
        assert!(read_lines("t", "/nowhere/baselines/mappers/iana_tlds.txt").unwrap().len() > 1000);
        // The bare file name is not DCLM's path: it is the user's file, and missing.
        let error = read_lines("url_removal_modifier", "iana_tlds.txt").unwrap_err();
        assert!(matches!(error, FilterError::ListFile { .. }));
        assert!(error.to_string().contains("'iana_tlds.txt'"), "{error}");
        assert_eq!(referenced_file("my/list.txt"), Some("my/list.txt".to_string()));
        assert!(read_lines("t", "baselines/mappers/banlists/refinedweb_banned_domains_curated.txt").is_err());
    }

    #[test]
    fn a_users_file_is_read_and_an_unreadable_one_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let list = dir.path().join("list.txt");
        std::fs::write(&list, "a\nb\n").unwrap();
        assert_eq!(read_lines("t", list.to_str().unwrap()).unwrap(), ["a", "b"]);
        // A folder named like DCLM's list exists but cannot be read as a file: no fallback.
        let dclm = dir.path().join("baselines/mappers/iana_tlds.txt");
        std::fs::create_dir_all(&dclm).unwrap();
        let path = dclm.to_str().unwrap();
        assert_eq!(referenced_file(path), Some(path.to_string()));
        assert!(matches!(read_lines("t", path), Err(FilterError::ListFile { .. })));
    }
}
