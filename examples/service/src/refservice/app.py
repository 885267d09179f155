"""The FastAPI application: health, notes in SQLite, page metadata, and (full) ML endpoints."""

import base64
import hmac
from typing import Any, Dict, List, Optional

from fastapi import Depends, FastAPI, Header, HTTPException, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from refservice import __version__, db, pagemeta
from refservice.settings import Settings

try:  # The ML side is installed in the full profile only.
    from refservice import ml
except ImportError as exc:  # pragma: no cover - depends on the profile
    ml = None  # type: ignore[assignment]
    ML_MISSING = f"{exc.name or exc}"
else:
    ML_MISSING = ""


class NoteIn(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    body: str = ""


class NoteOut(NoteIn):
    id: int


class PageIn(BaseModel):
    html: str
    base_url: Optional[str] = None


class FeaturesIn(BaseModel):
    features: List[float] = Field(min_length=4, max_length=4)


def create_app(settings: Optional[Settings] = None) -> FastAPI:
    """Build the app for ``settings`` (default: from the environment)."""
    settings = settings or Settings.from_env()
    if not settings.disable_auth and not settings.api_key:
        raise RuntimeError("set API_KEY, or DISABLE_AUTH=1 for CI and local runs")
    engine = db.make_engine(settings.database_url)
    factory = db.session_factory(engine)
    app = FastAPI(title="refservice", version=__version__)

    def get_session():  # type: ignore[no-untyped-def]
        yield from db.sessions(factory)

    def require_key(x_api_key: Optional[str] = Header(default=None)) -> None:
        if settings.disable_auth:
            return
        if x_api_key is None or not hmac.compare_digest(x_api_key, settings.api_key or ""):
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing or wrong X-API-Key")

    @app.get("/healthz")
    def healthz() -> Dict[str, str]:
        return {"status": "ok"}

    @app.get("/ready")
    def ready() -> JSONResponse:
        if db.is_ready(engine):
            return JSONResponse({"status": "ready", "env": settings.env, "ml": ml is not None})
        return JSONResponse({"status": "database not reachable"}, status_code=503)

    @app.post(
        "/notes", status_code=201, response_model=NoteOut, dependencies=[Depends(require_key)]
    )
    def create_note(note: NoteIn, session: Session = Depends(get_session)) -> Any:
        row = db.Note(title=note.title, body=note.body)
        session.add(row)
        session.commit()
        return NoteOut(id=row.id, title=row.title, body=row.body)

    @app.get("/notes", response_model=List[NoteOut], dependencies=[Depends(require_key)])
    def list_notes(session: Session = Depends(get_session)) -> Any:
        rows = session.scalars(select(db.Note).order_by(db.Note.id)).all()
        return [NoteOut(id=r.id, title=r.title, body=r.body) for r in rows]

    @app.get("/notes/{note_id}", response_model=NoteOut, dependencies=[Depends(require_key)])
    def get_note(note_id: int, session: Session = Depends(get_session)) -> Any:
        row = session.get(db.Note, note_id)
        if row is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no note {note_id}")
        return NoteOut(id=row.id, title=row.title, body=row.body)

    @app.post("/extract", dependencies=[Depends(require_key)])
    def extract(page: PageIn) -> Dict[str, object]:
        return pagemeta.extract(page.html, page.base_url)

    def need_ml() -> None:
        if ml is None:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE,
                f"the ML side is not installed in this image ({ML_MISSING} is missing); "
                "use the full profile",
            )

    @app.get("/ml/info", dependencies=[Depends(require_key), Depends(need_ml)])
    def ml_info() -> Dict[str, object]:
        return ml.runtime_info()

    @app.post("/ml/classify", dependencies=[Depends(require_key), Depends(need_ml)])
    def classify(body: FeaturesIn) -> Dict[str, object]:
        return ml.classify(body.features)

    @app.post("/ml/quality", dependencies=[Depends(require_key), Depends(need_ml)])
    def quality(body: FeaturesIn) -> Dict[str, object]:
        return {"quality": ml.quality(body.features)}

    @app.post("/ml/classify-page", dependencies=[Depends(require_key), Depends(need_ml)])
    def classify_page(page: PageIn) -> Dict[str, object]:
        meta = pagemeta.extract(page.html, page.base_url)
        features = ml.page_features(meta)
        return {"features": features, **ml.classify(features)}

    @app.post("/ml/thumbnail", dependencies=[Depends(require_key), Depends(need_ml)])
    async def make_thumbnail(request: Request) -> Dict[str, object]:
        data = await request.body()
        try:
            result = ml.thumbnail(data)
        except ValueError as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, str(exc)) from exc
        result["png"] = base64.b64encode(result["png"]).decode("ascii")  # type: ignore[arg-type]
        return result

    return app


def app() -> FastAPI:
    """Factory for uvicorn: ``uvicorn --factory refservice.app:app``."""
    return create_app()
