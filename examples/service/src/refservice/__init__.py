"""refservice: noxgrid's reference service (FastAPI, SQLite, BeautifulSoup; ML in full)."""

__version__ = "0.1.0"
