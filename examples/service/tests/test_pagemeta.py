"""Page metadata extraction with BeautifulSoup, directly and through the API."""

from refservice.pagemeta import extract

PAGE = """<!doctype html>
<html lang="en"><head>
  <title> Release notes 2.0 </title>
  <meta name="description" content="What changed in 2.0.">
  <meta property="og:title" content="Release 2.0">
  <meta property="og:type" content="article">
  <link rel="canonical" href="/releases/2.0">
</head><body>
  <h1>Release notes</h1><h2>Breaking changes</h2>
  <p>Python 3.8 is no longer supported. See <a href="/docs">the docs</a>
  and <a href="https://example.org/x">elsewhere</a>.</p>
</body></html>"""


def test_extract_reads_title_description_and_open_graph():
    meta = extract(PAGE, base_url="https://service.test/")
    assert meta["title"] == "Release notes 2.0"
    assert meta["description"] == "What changed in 2.0."
    assert meta["canonical"] == "https://service.test/releases/2.0"
    assert meta["open_graph"] == {"title": "Release 2.0", "type": "article"}
    assert meta["links"] == ["https://service.test/docs", "https://example.org/x"]
    assert meta["headings"] == ["Release notes", "Breaking changes"]
    assert meta["language"] == "en"


def test_extract_tolerates_a_bare_fragment():
    meta = extract("<p>just text</p>")
    assert meta["title"] is None and meta["links"] == [] and meta["word_count"] == 2


def test_extract_endpoint(client):
    response = client.post("/extract", json={"html": PAGE})
    assert response.status_code == 200
    assert response.json()["title"] == "Release notes 2.0"
