// npm run db:migrate | db:seed — against DATABASE_URL, or the embedded server under DATA_DIR.
import { getEnv } from '#app/utils/env.server.ts'
import { migrateDatabase } from '#db/migrate.ts'
import { openDatabase } from './database.ts'
import { seedIfEmpty } from './seed.ts'

const command = process.argv[2]
if (command !== 'migrate' && command !== 'seed') {
  console.error('usage: tsx scripts/db.ts migrate|seed')
  process.exit(2)
}
const database = await openDatabase(getEnv())
try {
  await migrateDatabase(database.url)
  console.log('migrations applied')
  if (command === 'seed') console.log((await seedIfEmpty(database.url)) ? 'demo data seeded' : 'database already has data; nothing seeded')
} finally {
  await database.stop()
}
