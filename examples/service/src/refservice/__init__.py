"""refservice: noxgrid's reference service (FastAPI, SQLite, BeautifulSoup; ONNX and OpenCV in full)."""

__version__ = "0.1.0"
