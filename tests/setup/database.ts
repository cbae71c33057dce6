// Each test gets its own database cloned from the migrated template: a clean slate that does
// not need to disable the ledger's append-only guards.
import pg from 'pg'
import { afterAll, afterEach, beforeAll, beforeEach, inject } from 'vitest'
import { connectDatabase, disconnectDatabase } from '#app/utils/db.server.ts'
import { databaseUrl } from './urls.ts'

const { adminUrl, template } = inject('postgres')
const admin = new pg.Client(adminUrl)
let sequence = 0
let current: string | undefined

beforeAll(async () => {
  await admin.connect()
})

beforeEach(async () => {
  current = `${template}_w${process.env.VITEST_POOL_ID ?? '0'}_${++sequence}`
  await admin.query(`create database ${current} template ${template} strategy file_copy`)
  connectDatabase(databaseUrl(adminUrl, current))
})

afterEach(async () => {
  await disconnectDatabase()
  if (current) await admin.query(`drop database if exists ${current} with (force)`)
  current = undefined
})

afterAll(async () => {
  await admin.end()
})
