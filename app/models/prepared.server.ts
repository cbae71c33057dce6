// Named prepared statements for the few statements every gift runs. Their text never changes, so
// each connection parses and plans them once instead of once per gift (and the text is not sent
// again): on the settlement path that was as much time as executing them.
import type { Executor } from '#db/client.ts'

export interface Statement {
  /** Unique per text: a new text needs a new name (connections cache statements by name). */
  name: string
  text: string
}

export async function runPrepared<T>(exec: Executor, statement: Statement, params: unknown[]): Promise<T[]> {
  const query = exec._.session.prepareQuery({ sql: statement.text, params }, undefined, statement.name, false)
  const result = (await query.execute()) as { rows: T[] }
  return result.rows
}
