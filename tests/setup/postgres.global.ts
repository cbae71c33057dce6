// Once per test run: a real PostgreSQL server (embedded, or the one DATABASE_URL points at) and
// a template database with every migration applied. Each test clones the template.
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import type { TestProject } from 'vitest/node'
import { startEmbeddedPostgres } from '#db/embedded.ts'
import { migrateDatabase } from '#db/migrate.ts'
import { databaseUrl } from './urls.ts'

declare module 'vitest' {
  export interface ProvidedContext {
    postgres: { adminUrl: string; template: string }
  }
}

export default async function setup(project: TestProject) {
  let adminUrl = process.env.DATABASE_URL
  let cleanup = async () => {}
  if (!adminUrl) {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'lift-test-pg-'))
    const server = await startEmbeddedPostgres({ dataDir: path.join(dir, 'data'), ephemeral: true })
    adminUrl = server.adminUrl
    cleanup = async () => {
      await server.stop()
      await rm(dir, { recursive: true, force: true })
    }
  }
  // A unique name, so runs sharing one server (DATABASE_URL) never collide.
  const template = `lift_test_${process.pid}_${Date.now().toString(36)}`
  const admin = new pg.Client(adminUrl)
  await admin.connect()
  await admin.query(`create database ${template}`)
  await migrateDatabase(databaseUrl(adminUrl, template))
  project.provide('postgres', { adminUrl, template })

  return async () => {
    // Drop the template and anything a crashed worker left behind.
    const { rows } = await admin.query<{ datname: string }>(
      'select datname from pg_database where datname like $1',
      [`${template}%`],
    )
    for (const { datname } of rows) await admin.query(`drop database if exists ${pg.escapeIdentifier(datname)} with (force)`)
    await admin.end()
    await cleanup()
  }
}
