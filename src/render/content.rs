//! Markdown pages from `content/**/*.md`, with TOML front matter between
//! `+++` lines. Pages at the top of `content/` are in every page's
//! navigation; pages in sub-folders (`content/docs/`) are reached by links.

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Debug, Serialize)]
pub struct ContentPage {
    pub slug: String,
    pub title: String,
    pub weight: i64,
    /// The Markdown rendered to HTML (written by the site's own people, so
    /// its HTML is kept).
    pub html: String,
    pub page: String,
    /// In the navigation: a page at the top of `content/`.
    pub nav: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FrontMatter {
    title: String,
    #[serde(default)]
    weight: i64,
}

pub fn load(dir: &Path) -> Result<Vec<ContentPage>> {
    let mut pages = Vec::new();
    let mut stems = Vec::new();
    if !dir.is_dir() {
        return Ok(pages);
    }
    for entry in walkdir::WalkDir::new(dir).min_depth(1).sort_by_file_name() {
        let entry = entry?;
        let path = entry.path();
        // A folder's README.md explains the folder: it is not a page.
        if path.extension().and_then(|e| e.to_str()) != Some("md") || path.file_name() == Some("README.md".as_ref()) {
            continue;
        }
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        // `docs/archives.md` is the page `docs-archives`.
        let stem = path.strip_prefix(dir)?.with_extension("").to_string_lossy().replace(['/', '\\'], "-");
        let mut page = parse(&text).with_context(|| format!("invalid page {}", path.display()))?.into_page(&stem);
        page.nav = entry.depth() == 1;
        pages.push(page);
        stems.push(stem);
    }
    let items: Vec<(&str, &str)> = stems.iter().zip(&pages).map(|(stem, p)| (stem.as_str(), p.slug.as_str())).collect();
    let slugs = crate::slug::unique(&items);
    for (page, slug) in pages.iter_mut().zip(slugs) {
        page.page = format!("pages/{slug}.html");
        page.slug = slug;
    }
    pages.sort_by(|a, b| (a.weight, &a.title).cmp(&(b.weight, &b.title)));
    Ok(pages)
}

struct Parsed {
    front: FrontMatter,
    html: String,
}

impl Parsed {
    fn into_page(self, stem: &str) -> ContentPage {
        let slug = crate::slug::slug(stem);
        ContentPage {
            nav: true,
            page: String::new(), // set once slugs are unique
            slug,
            title: self.front.title,
            weight: self.front.weight,
            html: self.html,
        }
    }
}

fn parse(text: &str) -> Result<Parsed> {
    let Some(rest) = text.strip_prefix("+++") else { bail!("no front matter: a page starts with a +++ line") };
    let Some((front, body)) = rest.split_once("\n+++") else { bail!("front matter is not closed by a +++ line") };
    let front: FrontMatter = toml::from_str(front).context("invalid front matter")?;
    let body = body.split_once('\n').map_or("", |(_, b)| b);
    let mut html = String::new();
    let options = pulldown_cmark::Options::ENABLE_TABLES | pulldown_cmark::Options::ENABLE_STRIKETHROUGH;
    pulldown_cmark::html::push_html(&mut html, pulldown_cmark::Parser::new_ext(body, options));
    Ok(Parsed { front, html })
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_front_matter_and_markdown() {
        let page =
            super::parse("+++\ntitle = \"Runbook\"\nweight = 2\n+++\n# Disks\n\n| a | b |\n|---|---|\n| 1 | 2 |\n")
                .unwrap();
        assert_eq!((page.front.title.as_str(), page.front.weight), ("Runbook", 2));
        assert!(page.html.contains("<h1>Disks</h1>") && page.html.contains("<table>"), "{}", page.html);
        assert!(super::parse("# no front matter").is_err());
    }
}
