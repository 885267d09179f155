"""Storage: SQLAlchemy 2 over SQLite (or any DATABASE_URL)."""

import datetime as dt
from typing import Iterator

from sqlalchemy import DateTime, Integer, String, Text, create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker


class Base(DeclarativeBase):
    pass


class Note(Base):
    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime, default=lambda: dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    )


def make_engine(url: str) -> Engine:
    """An engine; SQLite connections may be shared across FastAPI's worker threads."""
    connect_args = {"check_same_thread": False} if url.startswith("sqlite") else {}
    engine = create_engine(url, connect_args=connect_args)
    Base.metadata.create_all(engine)
    return engine


def is_ready(engine: Engine) -> bool:
    """True when the database answers a trivial query."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - any failure means "not ready"
        return False


def session_factory(engine: Engine) -> "sessionmaker[Session]":
    return sessionmaker(bind=engine, expire_on_commit=False)


def sessions(factory: "sessionmaker[Session]") -> Iterator[Session]:
    with factory() as session:
        yield session
