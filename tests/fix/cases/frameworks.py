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
    conn = engine.connect()
    row = conn.execute(text("SELECT name FROM users WHERE id = :id"), {"id": uid}).fetchone()
    if row is None:
        return None
    conn.close()
    return row[1]


def core_rows(uid):
    conn = engine.connect()
    result = conn.execute(text("SELECT * FROM users WHERE id > :id"), {"id": uid})
    rows = result.fetchall()
    conn.close()
    return rows


def orm_user(uid):
    session = Session(engine)
    user = session.execute(text("SELECT * FROM users WHERE id = :id"), {"id": uid}).first()
    if uid < 0:
        return "negative"
    session.close()
    return user


def orm_local(uid):
    db = SessionLocal()
    try:
        rows = db.execute(text("SELECT * FROM users")).all()
        if not rows:
            return []
        return rows[: max(uid, 0)]
    finally:
        db.close()


async def orm_async(uid):
    session = AsyncSession(engine)
    result = await session.execute(text("SELECT * FROM users"))
    rows = result.all()
    if uid > 1:
        return rows
    await session.close()
    return rows[:1]


async def pool_name(uid):
    conn = await pool.acquire()
    row = await conn.fetchrow("SELECT * FROM users WHERE id = $1", uid)
    if row is None:
        return None
    await pool.release(conn)
    return row[1]


async def pool_count(uid):
    conn = await pool.acquire()
    n = await conn.fetchval("SELECT count(*) FROM users WHERE id > $1", uid)
    await pool.release(conn)
    return n


async def direct(uid):
    # asyncpg.connect() has no async with: reported, left as it is.
    conn = await asyncpg.connect("postgresql://localhost/app")
    row = await conn.fetchrow("SELECT * FROM users WHERE id = $1", uid)
    await conn.close()
    return row


async def sqlite_value(uid):
    db = await aiosqlite.connect("app.db")
    cur = await db.execute("SELECT * FROM kv WHERE k = ?", (uid,))
    row = await cur.fetchone()
    if row is None:
        return None
    await db.close()
    return row[1]


async def psycopg_rows(uid):
    conn = await psycopg.AsyncConnection.connect("dbname=app", autocommit=True)
    cur = await conn.execute("SELECT * FROM users WHERE id > %s", (uid,))
    rows = await cur.fetchall()
    await conn.close()
    return rows


async def psycopg_in_transaction(uid):
    # Its async with would commit where close() rolls back: reported, left as it is.
    conn = await psycopg.AsyncConnection.connect("dbname=app")
    await conn.execute("UPDATE users SET seen = now() WHERE id = %s", (uid,))
    await conn.close()
    return uid
