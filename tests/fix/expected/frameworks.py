"""SQLAlchemy connections and sessions, asyncpg pools, aiosqlite and psycopg async connections:
each library's own with (or async with)."""
import aiosqlite
import asyncpg
import psycopg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from appdb import SessionLocal, engine, pool


def core_name(uid):
    with engine.connect() as conn:
        row = conn.execute(text("SELECT name FROM users WHERE id = :id"), {"id": uid}).fetchone()
        if row is None:
            return None
    return row[1]


def core_rows(uid):
    with engine.connect() as conn:
        result = conn.execute(text("SELECT * FROM users WHERE id > :id"), {"id": uid})
        rows = result.fetchall()
    return rows


def orm_user(uid):
    with Session(engine) as session:
        user = session.execute(text("SELECT * FROM users WHERE id = :id"), {"id": uid}).first()
        if uid < 0:
            return "negative"
    return user


def orm_local(uid):
    with SessionLocal() as db:
        rows = db.execute(text("SELECT * FROM users")).all()
        if not rows:
            return []
        return rows[: max(uid, 0)]


async def orm_async(uid):
    async with AsyncSession(engine) as session:
        result = await session.execute(text("SELECT * FROM users"))
        rows = result.all()
        if uid > 1:
            return rows
    return rows[:1]


async def pool_name(uid):
    async with pool.acquire() as conn:
        row = await conn.fetchrow("SELECT * FROM users WHERE id = $1", uid)
        if row is None:
            return None
    return row[1]


async def pool_count(uid):
    async with pool.acquire() as conn:
        n = await conn.fetchval("SELECT count(*) FROM users WHERE id > $1", uid)
    return n


async def direct(uid):
    # asyncpg.connect() has no async with: reported, left as it is.
    conn = await asyncpg.connect("postgresql://localhost/app")
    row = await conn.fetchrow("SELECT * FROM users WHERE id = $1", uid)
    await conn.close()
    return row


async def sqlite_value(uid):
    async with aiosqlite.connect("app.db") as db:
        cur = await db.execute("SELECT * FROM kv WHERE k = ?", (uid,))
        row = await cur.fetchone()
        if row is None:
            return None
    return row[1]


async def psycopg_rows(uid):
    async with await psycopg.AsyncConnection.connect("dbname=app", autocommit=True) as conn:
        cur = await conn.execute("SELECT * FROM users WHERE id > %s", (uid,))
        rows = await cur.fetchall()
    return rows


async def psycopg_in_transaction(uid):
    # Its async with would commit where close() rolls back: reported, left as it is.
    conn = await psycopg.AsyncConnection.connect("dbname=app")
    await conn.execute("UPDATE users SET seen = now() WHERE id = %s", (uid,))
    await conn.close()
    return uid
