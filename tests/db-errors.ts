import { postgresError } from '#db/errors.ts'

/** Awaits a promise that must fail and returns the database's own error message. */
export async function databaseRejection(promise: Promise<unknown>): Promise<string> {
  try {
    await promise
  } catch (error) {
    const cause = postgresError(error)
    if (!cause) throw error
    return `${cause.message} (${cause.constraint ?? cause.code})`
  }
  throw new Error('expected the database to reject this, but it succeeded')
}
