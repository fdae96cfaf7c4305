"""The schema the migrations build, for Alembic's metadata."""
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass
