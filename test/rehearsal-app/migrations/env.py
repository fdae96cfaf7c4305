# Alembic environment: the database comes from DATABASE_URL, as dropstack passes it.
import os

from alembic import context
from sqlalchemy import create_engine

from app.models import Base

url = os.environ["DATABASE_URL"]


def run() -> None:
    engine = create_engine(url)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=Base.metadata, transaction_per_migration=True)
        with context.begin_transaction():
            context.run_migrations()


run()
