"""The rehearsal's app: a health path that checks PostgreSQL and Redis, and users."""
import os

import redis
from fastapi import FastAPI, Response
from sqlalchemy import create_engine, text

VERSION = os.environ["APP_VERSION"]
# Through PgBouncer in transaction mode: no server-side state between transactions.
engine = create_engine(os.environ["DATABASE_URL"], pool_pre_ping=True, pool_size=5)
cache = redis.Redis.from_url(os.environ["REDIS_URL"], socket_timeout=2)
app = FastAPI()


@app.middleware("http")
async def version_header(request, call_next):
    response = await call_next(request)
    response.headers["X-App-Version"] = VERSION
    return response


@app.get("/health")
def health(response: Response):
    if VERSION == "never-healthy":
        response.status_code = 503
        return {"status": "broken on purpose", "version": VERSION}
    with engine.connect() as connection:
        revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    cache.ping()
    return {"status": "ok", "version": VERSION, "schema": revision}


@app.get("/users")
def users():
    with engine.connect() as connection:
        count = connection.execute(text("SELECT count(*) FROM users")).scalar_one()
    return {"users": count, "version": VERSION}


@app.post("/users/{subject}", status_code=201)
def create_user(subject: str):
    with engine.begin() as connection:
        row = connection.execute(
            text("INSERT INTO users (subject) VALUES (:s) ON CONFLICT (subject) DO UPDATE SET subject = EXCLUDED.subject RETURNING id, role"),
            {"s": subject},
        ).one()
    cache.incr("users:created")
    return {"id": row.id, "role": row.role, "version": VERSION}
