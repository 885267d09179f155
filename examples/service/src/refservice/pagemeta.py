"""Extract page metadata from HTML with BeautifulSoup."""

from typing import Dict, List, Optional
from urllib.parse import urljoin

from bs4 import BeautifulSoup


def _meta(soup: BeautifulSoup, **attrs: str) -> Optional[str]:
    tag = soup.find("meta", attrs=attrs)
    content = tag.get("content") if tag is not None else None
    return content.strip() if isinstance(content, str) else None


def extract(html: str, base_url: Optional[str] = None) -> Dict[str, object]:
    """Title, description, canonical URL, Open Graph properties, links and headings."""
    soup = BeautifulSoup(html, "html.parser")
    title = soup.title.string.strip() if soup.title and soup.title.string else None
    canonical_tag = soup.find("link", rel="canonical")
    canonical = canonical_tag.get("href") if canonical_tag is not None else None
    if isinstance(canonical, str) and base_url:
        canonical = urljoin(base_url, canonical)
    og: Dict[str, str] = {}
    for tag in soup.find_all("meta"):
        prop = tag.get("property")
        content = tag.get("content")
        if isinstance(prop, str) and prop.startswith("og:") and isinstance(content, str):
            og[prop[3:]] = content.strip()
    links: List[str] = []
    for anchor in soup.find_all("a", href=True):
        href = anchor["href"]
        links.append(urljoin(base_url, href) if base_url else href)
    return {
        "title": title,
        "description": _meta(soup, name="description"),
        "canonical": canonical,
        "language": soup.html.get("lang") if soup.html else None,
        "open_graph": og,
        "links": links,
        "headings": [h.get_text(" ", strip=True) for h in soup.find_all(["h1", "h2"])],
        "word_count": len(soup.get_text(" ", strip=True).split()),
    }
