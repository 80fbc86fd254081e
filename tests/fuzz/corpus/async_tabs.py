import asyncpg
async def f(x):
	conn = await asyncpg.connect(x)
	if x:
		raise ValueError(x)
	await conn.close()
